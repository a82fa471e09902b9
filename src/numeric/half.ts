/**
 * IEEE 754 half precision (binary16) on the host: the storage format of frozen weights kept in half
 * precision on the GPU, two to a u32 word, element 2i in the low 16 bits (WGSL's `unpack2x16float`
 * order). Kernels read them with `unpack2x16float`, which every WebGPU device has, so half storage does
 * not need the optional `shader-f16` feature; arithmetic stays f32.
 * The conversion rounds to nearest, ties to even, as IEEE casts do; it runs over every weight of a model
 * as it loads, so it works on the bits rather than through Math calls.
 */

const floatView = new Float32Array(1);
const bitsView = new Uint32Array(floatView.buffer);

/** The binary16 bits nearest to `x` (ties to even); ±Infinity beyond 65504, NaN kept a NaN. */
export function floatToHalfBits(x: number): number {
  floatView[0] = x;
  return halfBitsOfWord(bitsView[0] as number);
}

/** floatToHalfBits of the f32 whose bits are `f`. */
function halfBitsOfWord(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exponent = (f >>> 23) & 0xff;
  const mantissa = f & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  // Rebias from 127 to 15.
  const e = exponent - 112;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // A subnormal half (or zero): shift the mantissa, its hidden bit restored, into the 10-bit field.
    if (e < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    const half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const midway = 1 << (shift - 1);
    const up = rest > midway || (rest === midway && (half & 1) === 1);
    return sign | (half + (up ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa rolls into the exponent, and from the largest finite value to Infinity.
  const up = rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1);
  return sign | (half + (up ? 1 : 0));
}

export function halfBitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Every value as binary16 bits. */
export function toHalfBits(values: ArrayLike<number>): Uint16Array {
  if (values instanceof Float32Array) return halfBitsOf(values).bits;
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = floatToHalfBits(values[i] as number);
  return out;
}

let bf16Table: Uint16Array | undefined;

/** The binary16 bits of every BF16 value (by its 16 bits), made once: 128 KiB. */
function bf16ToHalf(): Uint16Array {
  if (!bf16Table) {
    bf16Table = new Uint16Array(0x10000);
    for (let b = 0; b < 0x10000; b++) bf16Table[b] = halfBitsOfWord((b << 16) >>> 0);
  }
  return bf16Table;
}

/**
 * Every value as binary16 bits, read as words (a model's weights go through here as they load), and
 * whether a finite value was too large for binary16 and became infinite.
 */
export function halfBitsOf(values: Float32Array): { bits: Uint16Array; overflow: boolean } {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const bits = new Uint16Array(values.length);
  let overflow = false;
  const fromBf16 = bf16ToHalf();
  for (let i = 0; i < words.length; i++) {
    const f = words[i] as number;
    // A value read from a BF16 checkpoint has 16 zero low bits: one table lookup converts it.
    const h = (f & 0xffff) === 0 ? (fromBf16[f >>> 16] as number) : halfBitsOfWord(f);
    bits[i] = h;
    if ((h & 0x7fff) === 0x7c00 && (f & 0x7f800000) !== 0x7f800000) overflow = true;
  }
  return { bits, overflow };
}

/** The values the bits stand for. */
export function fromHalfBits(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfBitsToFloat(bits[i] as number);
  return out;
}

/**
 * Bytes of a buffer of `elements` halves: 2 each, in whole groups of 4, so kernels may read them as
 * vec2<u32> (src/gpu/tensor.ts allocates so; the memory planner counts so).
 */
export const halfBufferBytes = (elements: number): number => Math.ceil(elements / 4) * 8;

/** Rounds each value to the nearest binary16 value, as half storage will hold it. */
export function roundToHalf(values: ArrayLike<number>): Float32Array {
  return fromHalfBits(toHalfBits(values));
}
