/**
 * `probeGpu()`: what the app's adapter screen needs to know about the GPU, and nothing more.
 *
 * The UI never imports `src/gpu`; it asks this boundary, which will later sit behind the `Trainer`
 * worker proxy. So the result is plain data that can cross `postMessage`: the adapter report, or the
 * error's name and message (named errors from `src/gpu/device/errors.ts` already say what to do).
 */
import { acquireDevice } from '../gpu/device/acquire-device';
import type { AdapterReport } from '../gpu/device/adapter-report';

export type { AdapterReport, OptionalFeatures } from '../gpu/device/adapter-report';

export interface GpuProbeError {
  name: string;
  message: string;
}

export type GpuProbeResult = { ok: true; report: AdapterReport } | { ok: false; error: GpuProbeError };

export type GpuProbe = () => Promise<GpuProbeResult>;

export async function probeGpu(): Promise<GpuProbeResult> {
  try {
    const gpu = await acquireDevice({ label: 'whetstone-probe' });
    // The report is a snapshot; holding the device would keep GPU memory the trainer will want.
    const report = gpu.report;
    gpu.destroy();
    return { ok: true, report };
  } catch (error) {
    return { ok: false, error: toProbeError(error) };
  }
}

function toProbeError(error: unknown): GpuProbeError {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}
