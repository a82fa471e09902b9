/**
 * A `Tensor` is a GPU buffer plus its shape, dtype and a label. Row-major, contiguous.
 * Upload and download go through the arena, staging buffers included, so byte counts stay exact.
 * 'f16' tensors hold binary16 values two to a u32 word (half.ts), padded to whole groups of four so a
 * kernel may read them as vec2<u32>; only kernels that declare a 'read-half' binding may bind them.
 * 'nf4' tensors hold 4-bit NormalFloat codes with a scale per block of 64 (numeric/nf4.ts); only
 * 'read-nf4' bindings take them. dispatch.ts enforces both through `packedFormat`.
 */

import { fromHalfBits, halfBufferBytes } from '../numeric/half';
import { dequantizeNf4, nf4Bytes } from '../numeric/nf4';
import type { BufferArena } from './arena';

export type DType = 'f32' | 'f16' | 'nf4' | 'u32' | 'i32';

/** The dtypes whose buffers hold something other than one 32-bit value per element. */
export type PackedFormat = 'f16' | 'nf4';

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

/** Buffers that hold packed values: binding one where a kernel reads f32 would read garbage. */
const packedBuffers = new WeakMap<GPUBuffer, PackedFormat>();

export const packedFormat = (buffer: GPUBuffer): PackedFormat | undefined => packedBuffers.get(buffer);

/**
 * Bytes a tensor's buffer holds: 4 per element; 2 per element in whole groups of 4 for 'f16'; 4.5 bits
 * per element in whole blocks of 64 for 'nf4'.
 */
export function tensorByteLength(dtype: DType, size: number): number {
  if (dtype === 'f16') return halfBufferBytes(size);
  if (dtype === 'nf4') return nf4Bytes(size);
  return size * 4;
}

export function createTensor(
  arena: BufferArena,
  label: string,
  shape: readonly number[],
  dtype: DType = 'f32',
): Tensor {
  const size = elementCount(shape);
  // Packed buffers pool apart, so a buffer marked packed is never reused for f32 values.
  const packed = dtype === 'f16' || dtype === 'nf4' ? dtype : undefined;
  const buffer = arena.alloc(label, tensorByteLength(dtype, size), undefined, packed ?? '');
  if (packed) packedBuffers.set(buffer, packed);
  return { buffer, shape: [...shape], dtype, label, size };
}

/** A half-precision tensor from binary16 bits (half.ts's `toHalfBits`). */
export function uploadHalfTensor(
  arena: BufferArena,
  label: string,
  shape: readonly number[],
  bits: Uint16Array,
): Tensor {
  const tensor = createTensor(arena, label, shape, 'f16');
  if (bits.length !== tensor.size) {
    throw new Error(
      `Tensor "${label}" has shape [${shape.join(', ')}] but ${bits.length} values were given.`,
    );
  }
  const padded = new Uint16Array(tensorByteLength('f16', tensor.size) / 2);
  padded.set(bits);
  arena.device.queue.writeBuffer(tensor.buffer, 0, padded.buffer, 0, padded.byteLength);
  return tensor;
}

/** An NF4 tensor from its words (numeric/nf4.ts's `quantizeNf4`). */
export function uploadNf4Tensor(
  arena: BufferArena,
  label: string,
  shape: readonly number[],
  words: Uint32Array,
): Tensor {
  const tensor = createTensor(arena, label, shape, 'nf4');
  if (words.byteLength !== tensorByteLength('nf4', tensor.size)) {
    throw new Error(
      `Tensor "${label}" has shape [${shape.join(', ')}] but ${words.length} NF4 words were given.`,
    );
  }
  arena.device.queue.writeBuffer(tensor.buffer, 0, words.buffer, words.byteOffset, words.byteLength);
  return tensor;
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
  if (tensor.dtype === 'f16' || tensor.dtype === 'nf4')
    throw new Error(`${tensor.label} holds packed ${tensor.dtype} values; upload it as ${tensor.dtype}.`);
  device.queue.writeBuffer(tensor.buffer, 0, data.buffer, data.byteOffset, tensor.size * 4);
}

/**
 * Copies a tensor back to the CPU (halves widened, NF4 dequantized, to f32). Waits for all submitted work
 * that writes it.
 */
export async function downloadTensor(arena: BufferArena, tensor: Tensor): Promise<Float32Array> {
  const bytes = await downloadBytes(arena, tensor);
  if (tensor.dtype === 'f16') return fromHalfBits(new Uint16Array(bytes, 0, tensor.size));
  if (tensor.dtype === 'nf4') return dequantizeNf4(new Uint32Array(bytes), tensor.size);
  return new Float32Array(bytes, 0, tensor.size);
}

export async function downloadBytes(arena: BufferArena, tensor: Tensor): Promise<ArrayBuffer> {
  const device = arena.device;
  const byteLength = tensorByteLength(tensor.dtype, tensor.size);
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
/**
 * A view of the first `rows` rows of a tensor (its leading dimension), on the same buffer: kernels read
 * only what its shape covers. Never released on its own.
 */
export function leadingRowsView(tensor: Tensor, rows: number, label = tensor.label): Tensor {
  const [first, ...rest] = tensor.shape;
  if (first === undefined || !Number.isInteger(rows) || rows < 1 || rows > first) {
    throw new Error(`Cannot view ${rows} leading rows of ${tensor.label}[${tensor.shape.join(', ')}].`);
  }
  const shape = [rows, ...rest];
  return { ...tensor, shape, label, size: elementCount(shape) };
}

export function reshapeTensor(tensor: Tensor, shape: readonly number[], label = tensor.label): Tensor {
  const size = elementCount(shape);
  if (size !== tensor.size) {
    throw new Error(`Cannot view ${tensor.label}[${tensor.shape.join(', ')}] as [${shape.join(', ')}].`);
  }
  return { ...tensor, shape: [...shape], label, size };
}
