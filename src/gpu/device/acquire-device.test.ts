import { describe, expect, it } from 'vitest';
import { acquireDevice } from './acquire-device';
import { GpuDeviceLostError, GpuValidationError } from './errors';

describe('acquireDevice', () => {
  it('asks for the adapter’s largest buffers and reports what the adapter says', async () => {
    const gpu = await acquireDevice();
    expect(gpu.device.limits.maxStorageBufferBindingSize).toBe(
      gpu.adapter.limits.maxStorageBufferBindingSize,
    );
    expect(gpu.device.limits.maxBufferSize).toBe(gpu.adapter.limits.maxBufferSize);
    expect(gpu.report.vendor).toBe(gpu.adapter.info.vendor);
    expect(gpu.report.limits.maxBufferSize).toBe(gpu.adapter.limits.maxBufferSize);
    expect(gpu.optional.timestampQuery).toBe(gpu.adapter.features.has('timestamp-query'));
    expect(gpu.optional.subgroups).toBe(gpu.device.features.has('subgroups'));
    expect(gpu.optional.shaderF16).toBe(gpu.device.features.has('shader-f16'));
    gpu.destroy();
    expect(await gpu.lost).toBeNull();
  });

  it('turns an uncaptured WebGPU error into a GpuValidationError', async () => {
    const gpu = await acquireDevice();
    const errors: Error[] = [];
    gpu.onError((error) => errors.push(error));
    // MAP_READ may only be combined with COPY_DST: a validation error.
    gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    await gpu.device.queue.onSubmittedWorkDone();
    for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(errors[0]).toBeInstanceOf(GpuValidationError);
    gpu.destroy();
  });

  it('turns a device lost under us into a GpuDeviceLostError that says what to do', async () => {
    const gpu = await acquireDevice();
    const seen: Error[] = [];
    gpu.onError((error) => seen.push(error));
    gpu.device.destroy(); // not through gpu.destroy(): as if the driver had dropped it
    const lost = await gpu.lost;
    expect(lost).toBeInstanceOf(GpuDeviceLostError);
    expect(lost?.message).toMatch(/reload the page or restart/);
    expect(seen[0]).toBe(lost);
  });
});
