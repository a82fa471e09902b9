/**
 * The per-step random state that dropout kernels read: a 16-byte uniform (seed, step).
 * One per model; the trainer calls `setStep` once per step, before replaying the recorded step,
 * which gives every dropout site a fresh mask without re-recording anything.
 */
import type { Runtime } from '../../runtime';

export interface RngState {
  readonly buffer: GPUBuffer;
  readonly seed: number;
  step: number;
  setStep(step: number): void;
}

export function createRngState(runtime: Runtime, seed: number, label = 'rng'): RngState {
  const buffer = runtime.arena.alloc(label, 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  const state: RngState = {
    buffer,
    seed: seed >>> 0,
    step: 0,
    setStep(step: number) {
      state.step = step >>> 0;
      runtime.device.queue.writeBuffer(buffer, 0, new Uint32Array([state.seed, state.step, 0, 0]));
    },
  };
  state.setStep(0);
  return state;
}
