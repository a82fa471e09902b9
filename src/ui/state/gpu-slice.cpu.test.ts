import { describe, expect, it, vi } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { AdapterReport, GpuProbeResult } from '../../train/gpu-info';
import { createGpuSlice } from './gpu-slice';

const report: AdapterReport = {
  vendor: 'google',
  architecture: 'swiftshader',
  device: '',
  description: 'SwiftShader',
  isFallbackAdapter: false,
  features: ['shader-f16'],
  optional: { shaderF16: true, subgroups: false, timestampQuery: false },
  limits: { maxBufferSize: 2 ** 30 },
};

describe('gpu slice', () => {
  it('starts probing and becomes ready with the report', async () => {
    const store = createStore(createGpuSlice(async () => ({ ok: true, report })));
    expect(store.getState().gpu.status).toBe('probing');
    await store.getState().probeGpu();
    expect(store.getState().gpu).toEqual({ status: 'ready', report, error: null });
  });

  it('becomes unavailable with the error', async () => {
    const error = { name: 'WebGpuUnavailableError', message: 'Use Chrome or Edge 113 or newer.' };
    const store = createStore(createGpuSlice(async () => ({ ok: false, error })));
    await store.getState().probeGpu();
    expect(store.getState().gpu).toEqual({ status: 'unavailable', report: null, error });
  });

  it('shares one probe between overlapping calls', async () => {
    const probe = vi.fn(async (): Promise<GpuProbeResult> => ({ ok: true, report }));
    const store = createStore(createGpuSlice(probe));
    await Promise.all([store.getState().probeGpu(), store.getState().probeGpu()]);
    expect(probe).toHaveBeenCalledTimes(1);
  });
});
