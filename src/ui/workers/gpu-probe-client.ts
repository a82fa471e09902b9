/** Asks a short-lived worker for the GPU probe (src/train/worker/gpu-probe-worker.ts); the worker ends once it answers. */
import type { GpuProbeResult } from '../../train/gpu-info';

export function probeGpuInWorker(): Promise<GpuProbeResult> {
  // A browser without WebGPU in the page has none in its workers either: say so without starting one.
  if (!navigator.gpu) {
    return Promise.resolve({
      ok: false,
      error: {
        name: 'WebGpuUnavailableError',
        message:
          'This browser has no WebGPU. Use Chrome or Edge 113 or newer on a machine with a GPU ' +
          '(on Linux, start Chrome with --enable-unsafe-webgpu), and open Whetstone over https or localhost.',
      },
    });
  }
  return new Promise((resolve) => {
    const worker = new Worker(new URL('../../train/worker/gpu-probe-worker.ts', import.meta.url), {
      type: 'module',
    });
    const finish = (result: GpuProbeResult) => {
      worker.terminate();
      resolve(result);
    };
    worker.addEventListener('message', (event: MessageEvent<GpuProbeResult>) => finish(event.data));
    worker.addEventListener('error', (event) =>
      finish({
        ok: false,
        error: { name: 'WorkerError', message: `The GPU probe worker failed: ${event.message}` },
      }),
    );
    worker.postMessage('probe');
  });
}
