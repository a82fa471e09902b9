/**
 * Wall-clock time of a kernel on the GPU: the dispatches are encoded `reps` times into one compute pass,
 * submitted once, and timed to queue completion, so the host round trip is paid once for all reps.
 * One untimed run first (pipeline first use), one more to size `reps` so the timed run lasts about
 * `targetMs`. Returns milliseconds per repetition (every dispatch once).
 */
import { type Dispatch, encodeDispatches } from '../../gpu/dispatch';
import type { Runtime } from '../../gpu/runtime';

async function runRepeated(runtime: Runtime, dispatches: readonly Dispatch[], reps: number) {
  const device = runtime.device;
  const encoder = device.createCommandEncoder({ label: 'kernel bench' });
  const pass = encoder.beginComputePass({ label: 'kernel bench' });
  for (let i = 0; i < reps; i++) encodeDispatches(pass, dispatches);
  pass.end();
  const started = performance.now();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - started;
}

export async function timeDispatches(
  runtime: Runtime,
  dispatches: readonly Dispatch[],
  options: { targetMs: number; maxReps: number },
): Promise<{ msPerRep: number; reps: number }> {
  await runRepeated(runtime, dispatches, 1);
  const once = await runRepeated(runtime, dispatches, 1);
  const reps = Math.max(1, Math.min(options.maxReps, Math.ceil(options.targetMs / Math.max(once, 0.01))));
  const total = await runRepeated(runtime, dispatches, reps);
  return { msPerRep: total / reps, reps };
}

/** GFLOP/s from FLOPs and milliseconds. */
export const gflops = (flops: number, ms: number) => flops / (ms * 1e6);
