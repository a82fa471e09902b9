/**
 * safetensors reading and writing (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length, a JSON header { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? },
 * then the raw little-endian tensor bytes. F32, F16 and BF16 are read into Float32Array; every problem
 * (truncation, overlapping or out-of-range offsets, a size that does not match the shape) is a
 * `SafetensorsError` that names the file and the tensor, raised before any GPU work.
 */
import { halfBitsToFloat, toHalfBits } from '../../numeric/half';

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'BOOL';

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range in the file (absolute). */
  begin: number;
  end: number;
}

export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

const bytesPerElement: Record<SafetensorsDType, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
  BOOL: 1,
};
const maxHeaderBytes = 100 * 1024 * 1024;

export function parseSafetensorsHeader(
  file: string,
  bytes: Uint8Array,
  fileSize = bytes.byteLength,
): TensorEntry[] {
  if (bytes.byteLength < 8)
    throw new SafetensorsError(`${file} is ${bytes.byteLength} bytes: too short for a safetensors file.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > maxHeaderBytes || 8 + headerLength > fileSize) {
    throw new SafetensorsError(
      `${file}: its header claims ${headerLength} bytes but the file has ${fileSize}; it is truncated or not safetensors.`,
    );
  }
  if (8 + headerLength > bytes.byteLength) {
    throw new SafetensorsError(
      `${file}: only ${bytes.byteLength} bytes were given for a ${headerLength}-byte header.`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new SafetensorsError(`${file}: the header is not valid JSON (${String(error)}).`);
  }
  const dataStart = 8 + headerLength;
  const entries: TensorEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = raw as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const dtype = info.dtype as SafetensorsDType;
    if (!(dtype in bytesPerElement))
      throw new SafetensorsError(`${file}: tensor ${name} has unsupported dtype ${info.dtype}.`);
    const shape = info.shape ?? [];
    const [b, e] = info.data_offsets ?? [Number.NaN, Number.NaN];
    const expected = shape.reduce((x, y) => x * y, 1) * bytesPerElement[dtype];
    if (!(Number.isInteger(b) && Number.isInteger(e) && b >= 0 && e >= b)) {
      throw new SafetensorsError(
        `${file}: tensor ${name} has bad data_offsets ${JSON.stringify(info.data_offsets)}.`,
      );
    }
    if (e - b !== expected) {
      throw new SafetensorsError(
        `${file}: tensor ${name} [${shape.join(', ')}] ${dtype} needs ${expected} bytes but has ${e - b}.`,
      );
    }
    if (dataStart + e > fileSize) {
      throw new SafetensorsError(
        `${file}: tensor ${name} ends at byte ${dataStart + e} but the file has ${fileSize}; it is truncated.`,
      );
    }
    entries.push({ name, dtype, shape, begin: dataStart + b, end: dataStart + e });
  }
  entries.sort((x, y) => x.begin - y.begin);
  for (let i = 1; i < entries.length; i++) {
    const [prev, next] = [entries[i - 1] as TensorEntry, entries[i] as TensorEntry];
    if (next.begin < prev.end)
      throw new SafetensorsError(`${file}: tensors ${prev.name} and ${next.name} overlap.`);
  }
  return entries;
}

/** Reads the size of the header (the 8-byte prefix included), to fetch just that much first. */
export function headerByteLength(prefix: Uint8Array): number {
  return 8 + Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
}

export function toFloat32(entry: TensorEntry, bytes: Uint8Array, file: string): Float32Array {
  const count = entry.shape.reduce((x, y) => x * y, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (entry.dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfBitsToFloat(view.getUint16(i * 2, true));
      return out;
    case 'BF16': {
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    default:
      throw new SafetensorsError(
        `${file}: tensor ${entry.name} is ${entry.dtype}; model weights must be F32, F16 or BF16.`,
      );
  }
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  /** How to store it: F32 (the default), or rounded to nearest-even F16 or BF16 as 16-bit checkpoints are. */
  dtype?: 'F32' | 'F16' | 'BF16';
}

/** BF16 bits of an f32: its top 16 bits, rounded to nearest even (NaN stays NaN). */
function bfloat16Bits(data: Float32Array): Uint16Array {
  const words = new Uint32Array(data.buffer, data.byteOffset, data.length);
  return Uint16Array.from(words, (w) =>
    (w & 0x7fffffff) > 0x7f800000 ? (w >>> 16) | 0x40 : (w + 0x7fff + ((w >>> 16) & 1)) >>> 16,
  );
}

function storedBytes(t: NamedTensor): Uint8Array {
  const dtype = t.dtype ?? 'F32';
  if (dtype === 'F32') return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * 4);
  const bits = dtype === 'F16' ? toHalfBits(t.data) : bfloat16Bits(t.data);
  return new Uint8Array(bits.buffer);
}

/** Writes tensors in safetensors layout (the fixture generator, adapter export and merged models). */
export function writeSafetensors(tensors: NamedTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const stored = tensors.map(storedBytes);
  let offset = 0;
  for (const [i, t] of tensors.entries()) {
    const bytes = (stored[i] as Uint8Array).length;
    header[t.name] = { dtype: t.dtype ?? 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const bytes of stored) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}
