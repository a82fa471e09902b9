/**
 * The GPU slice of the app store: whether we are still asking for an adapter, what it reported,
 * or why there is none. The probe is injected so the slice can be tested in Node without a GPU.
 */
import type { StateCreator } from 'zustand';
import type { AdapterReport, GpuProbe, GpuProbeError } from '../../train/gpu-info';

// One shape per status, so a component that checked `status` needs no null checks.
export type GpuState =
  | { status: 'probing'; report: null; error: null }
  | { status: 'ready'; report: AdapterReport; error: null }
  | { status: 'unavailable'; report: null; error: GpuProbeError };

export type GpuStatus = GpuState['status'];

export interface GpuSlice {
  gpu: GpuState;
  /** Asks for the adapter; calls made while one probe is running share it. */
  probeGpu: () => Promise<void>;
}

export function createGpuSlice(probe: GpuProbe): StateCreator<GpuSlice, [], [], GpuSlice> {
  return (set) => {
    let running: Promise<void> | undefined;
    const run = async () => {
      set({ gpu: { status: 'probing', report: null, error: null } });
      const result = await probe();
      set({
        gpu: result.ok
          ? { status: 'ready', report: result.report, error: null }
          : { status: 'unavailable', report: null, error: result.error },
      });
    };
    return {
      gpu: { status: 'probing', report: null, error: null },
      probeGpu: () => {
        running ??= run().finally(() => {
          running = undefined;
        });
        return running;
      },
    };
  };
}
