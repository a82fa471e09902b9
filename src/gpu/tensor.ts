/**
 * A `Tensor` is a GPU buffer plus its shape, dtype and a label. Row-major, contiguous.
 * Upload and download go through the arena, staging buffers included, so byte counts stay exact.
 */
import type { BufferArena } from './arena';

export type DType = 'f32' | 'u32' | 'i32';

export interface Tensor {
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly label: string;
  /** Number of elements. */
  readonly size: number;
}

export type TypedArrayFor<D extends DType> = D extends 'f32'
  ? Float32Array
  : D extends 'u32'
    ? Uint32Array
    : Int32Array;

export function elementCount(shape: readonly number[]): number {
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) throw new Error(`Bad tensor shape [${shape.join(', ')}].`);
  }
  return shape.reduce((a, b) => a * b, 1);
}

export function createTensor(
  arena: BufferArena,
  label: string,
  shape: readonly number[],
  dtype: DType = 'f32',
): Tensor {
  const size = elementCount(shape);
  return { buffer: arena.alloc(label, size * 4), shape: [...shape], dtype, label, size };
}

export function uploadTensor(
  arena: BufferArena,
  label: string,
  shape: readonly number[],
  data: Float32Array | Uint32Array | Int32Array,
): Tensor {
  const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Uint32Array ? 'u32' : 'i32';
  const tensor = createTensor(arena, label, shape, dtype);
  if (data.length !== tensor.size) {
    throw new Error(
      `Tensor "${label}" has shape [${shape.join(', ')}] but ${data.length} values were given.`,
    );
  }
  writeTensor(arena.device, tensor, data);
  return tensor;
}

export function writeTensor(
  device: GPUDevice,
  tensor: Tensor,
  data: Float32Array | Uint32Array | Int32Array,
): void {
  device.queue.writeBuffer(tensor.buffer, 0, data.buffer, data.byteOffset, tensor.size * 4);
}

/** Copies a tensor back to the CPU. Waits for all submitted work that writes it. */
export async function downloadTensor(arena: BufferArena, tensor: Tensor): Promise<Float32Array> {
  const bytes = await downloadBytes(arena, tensor);
  return new Float32Array(bytes);
}

export async function downloadBytes(arena: BufferArena, tensor: Tensor): Promise<ArrayBuffer> {
  const device = arena.device;
  const byteLength = tensor.size * 4;
  const staging = arena.alloc('staging', byteLength, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  try {
    const encoder = device.createCommandEncoder({ label: `download ${tensor.label}` });
    encoder.copyBufferToBuffer(tensor.buffer, 0, staging, 0, staging.size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const copy = staging.getMappedRange(0, byteLength).slice(0);
    staging.unmap();
    return copy;
  } finally {
    arena.release(staging);
  }
}

export function releaseTensor(arena: BufferArena, tensor: Tensor): void {
  arena.release(tensor.buffer);
}

export function describeShape(tensor: Tensor): string {
  return `${tensor.label}[${tensor.shape.join(', ')}]`;
}

/** The same buffer seen with another shape of the same size (row-major, so no data moves). */
export function reshapeTensor(tensor: Tensor, shape: readonly number[], label = tensor.label): Tensor {
  const size = elementCount(shape);
  if (size !== tensor.size) {
    throw new Error(`Cannot view ${tensor.label}[${tensor.shape.join(', ')}] as [${shape.join(', ')}].`);
  }
  return { ...tensor, shape: [...shape], label, size };
}
