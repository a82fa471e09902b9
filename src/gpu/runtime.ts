/**
 * The runtime bundle every launcher takes: the device, its arena, its pipeline cache, and tiny
 * placeholder buffers that fill bindings a specialised kernel never reads: a uniform, and two storage
 * buffers, since WebGPU forbids one buffer in two writable bindings of a dispatch.
 */
import { BufferArena } from './arena';
import type { GpuDevice } from './device/acquire-device';
import { PipelineCache } from './pipeline-cache';

export interface Runtime {
  readonly gpu: GpuDevice;
  readonly device: GPUDevice;
  readonly arena: BufferArena;
  readonly pipelines: PipelineCache;
  readonly placeholder: {
    readonly storage: GPUBuffer;
    /** For a second unused writable binding in the same dispatch. */
    readonly secondStorage: GPUBuffer;
    readonly uniform: GPUBuffer;
  };
}

export function createRuntime(gpu: GpuDevice): Runtime {
  const arena = new BufferArena(gpu.device);
  return {
    gpu,
    device: gpu.device,
    arena,
    pipelines: new PipelineCache(gpu.device),
    placeholder: {
      storage: arena.alloc('placeholder', 16),
      secondStorage: arena.alloc('placeholder', 16),
      uniform: arena.alloc('placeholder', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
    },
  };
}
