import { describe, expect, it } from 'vitest';
import type { WorkerCheckResult } from '../testing/kernel-check.worker';

describe('acquireDevice in a dedicated Web Worker', () => {
  it('gets a device and runs a kernel that matches its reference', async () => {
    const worker = new Worker(new URL('../testing/kernel-check.worker.ts', import.meta.url), {
      type: 'module',
    });
    const result = await new Promise<WorkerCheckResult>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerCheckResult>) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
    });
    worker.terminate();
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.vendor).toBe((await navigator.gpu.requestAdapter())?.info.vendor);
    expect(result.maxAbsDiff).toBeLessThan(1e-4);
  });
});
