/**
 * CPU reference for dropout: the counter-based mask, bit-for-bit as dropout-hash.wgsl computes it,
 * and inverted dropout forward and backward in float64.
 */

export interface DropoutKey {
  seed: number;
  step: number;
  stream: number;
}

function mix(x: number): number {
  let v = x >>> 0;
  v ^= v >>> 16;
  v = Math.imul(v, 0x7feb352d) >>> 0;
  v ^= v >>> 15;
  v = Math.imul(v, 0x846ca68b) >>> 0;
  v ^= v >>> 16;
  return v >>> 0;
}

/** round(p * 2^32), clamped to a u32: an element is kept when its hash is at least this. */
export function dropoutThreshold(p: number): number {
  if (!(p >= 0 && p < 1)) throw new Error(`Dropout probability must be in [0, 1), got ${p}.`);
  return Math.min(0xffffffff, Math.round(p * 2 ** 32));
}

export function dropoutScale(p: number): number {
  return 1 / (1 - p);
}

export function dropoutKeep(key: DropoutKey, index: number, threshold: number): boolean {
  const k = mix((key.seed ^ mix((key.step ^ mix((key.stream + 0x9e3779b9) >>> 0)) >>> 0)) >>> 0);
  return mix((mix((index ^ k) >>> 0) + k) >>> 0) >= threshold;
}

/** mask[i] = scale when kept, 0 when dropped. */
export function dropoutMask(key: DropoutKey, count: number, p: number): Float64Array {
  const threshold = dropoutThreshold(p);
  const scale = dropoutScale(p);
  const mask = new Float64Array(count);
  for (let i = 0; i < count; i++) mask[i] = dropoutKeep(key, i, threshold) ? scale : 0;
  return mask;
}

export function dropoutForwardRef(x: Float64Array, key: DropoutKey, p: number): Float64Array {
  const mask = dropoutMask(key, x.length, p);
  return x.map((v, i) => v * (mask[i] ?? 0));
}

/** dx = dy * mask: the same mask as the forward pass. */
export const dropoutBackwardRef = dropoutForwardRef;
