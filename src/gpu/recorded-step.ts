/**
 * A recorded step: a fixed list of dispatches, bind groups made once, replayed with one compute pass
 * and one submit. Per-step values that change (the dropout seed, the step number) live in small
 * uniform buffers that the step's owner rewrites before `replay()`, so replay does no other JS work.
 */
import { type Dispatch, encodeDispatches, releaseDispatches } from './dispatch';
import type { Runtime } from './runtime';

export class RecordedStep {
  private readonly dispatches: readonly Dispatch[];

  constructor(
    private readonly runtime: Runtime,
    readonly label: string,
    dispatches: readonly Dispatch[],
  ) {
    this.dispatches = [...dispatches];
  }

  get dispatchCount(): number {
    return this.dispatches.length;
  }

  replay(): void {
    const encoder = this.runtime.device.createCommandEncoder({ label: this.label });
    const pass = encoder.beginComputePass({ label: this.label });
    encodeDispatches(pass, this.dispatches);
    pass.end();
    this.runtime.device.queue.submit([encoder.finish()]);
  }

  /** Resolves when the GPU has finished everything submitted so far. */
  finished(): Promise<void> {
    return this.runtime.device.queue.onSubmittedWorkDone();
  }

  release(): void {
    releaseDispatches(this.runtime, this.dispatches);
  }
}
