/**
 * 4-bit NormalFloat (NF4) on the host: the storage of frozen weights quantized as QLoRA does (Dettmers
 * et al. 2023, "QLoRA: Efficient Finetuning of Quantized LLMs", §3; bitsandbytes' `quant_type="nf4"`).
 * Each block of 64 consecutive values (bitsandbytes' default blocksize for 4 bits) is scaled by its
 * largest magnitude, and each value becomes the index of the nearest of 16 levels, the quantiles of a
 * standard normal that the paper lists.
 *
 * Layout, 9 u32 words per block (4.5 bits per value):
 *   words 0..7: the block's 64 codes, 8 to a word, value i of the block in bits 4·(i mod 8)..+3 of word i div 8;
 *   word 8:     the block's absmax as f32 bits.
 * The scale sits next to its codes, so a kernel finds both from one block index (matmul-b-nf4.wgsl).
 * A tail block is padded with zeros. The absmax stays f32 (bitsandbytes' double quantization of it would
 * save another 0.37 bits per value).
 */

/** The 16 NF4 levels, ascending (QLoRA appendix E; bitsandbytes' NF4 code). */
export const nf4Levels: readonly number[] = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
  -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
  0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
];

export const nf4BlockSize = 64;
export const nf4WordsPerBlock = 9;

/** u32 words that `size` values take, in whole blocks. */
export const nf4Words = (size: number): number => Math.ceil(size / nf4BlockSize) * nf4WordsPerBlock;

/** Bytes that `size` values take on the GPU. */
export const nf4Bytes = (size: number): number => nf4Words(size) * 4;

/** Midpoints between neighbouring levels: a normalized value above midpoint k takes code k + 1 or higher. */
const midpoints = nf4Levels.slice(1).map((level, k) => (level + (nf4Levels[k] as number)) / 2);

/** The code of the level nearest to x in [-1, 1] (a tie goes to the larger level). */
export function nearestNf4Code(x: number): number {
  let code = 0;
  while (code < 15 && x >= (midpoints[code] as number)) code++;
  return code;
}

const wordView = new Uint32Array(1);
const floatView = new Float32Array(wordView.buffer);

/**
 * Quantizes values to NF4 words. Throws on a value that is not finite, naming `label`: a block's
 * scale would turn every one of its values into NaN.
 */
export function quantizeNf4(values: Float32Array, label = 'tensor'): Uint32Array {
  const words = new Uint32Array(nf4Words(values.length));
  for (let start = 0, base = 0; start < values.length; start += nf4BlockSize, base += nf4WordsPerBlock) {
    const end = Math.min(start + nf4BlockSize, values.length);
    let absmax = 0;
    for (let i = start; i < end; i++) {
      const v = values[i] as number;
      if (!Number.isFinite(v))
        throw new Error(`${label}: value ${i} is ${v}; it cannot be quantized to NF4.`);
      absmax = Math.max(absmax, Math.abs(v));
    }
    floatView[0] = absmax;
    const scale = floatView[0] as number;
    for (let i = start; i < end; i++) {
      const code = scale === 0 ? 7 : nearestNf4Code((values[i] as number) / scale);
      const offset = i - start;
      const w = base + (offset >> 3);
      words[w] = ((words[w] as number) | (code << ((offset & 7) * 4))) >>> 0;
    }
    words[base + 8] = wordView[0] as number;
  }
  return words;
}

/** The f32 values NF4 words stand for: level × absmax, as the kernels compute them. */
export function dequantizeNf4(words: Uint32Array, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const base = Math.floor(i / nf4BlockSize) * nf4WordsPerBlock;
    const offset = i % nf4BlockSize;
    const code = ((words[base + (offset >> 3)] as number) >>> ((offset & 7) * 4)) & 15;
    wordView[0] = words[base + 8] as number;
    out[i] = Math.fround(Math.fround(nf4Levels[code] as number) * (floatView[0] as number));
  }
  return out;
}
