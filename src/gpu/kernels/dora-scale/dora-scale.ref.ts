/**
 * Float64 reference for DoRA's per-output-column scaling, forward and backward side by side, with
 * g = m / n (n a constant: the detached norm) over v [ROWS, COLS]:
 *   forward   y = y0 + b + (g − k)·v, k = 1 with subtractOne, else 0
 *   backward  dv = (g − k) ⊙ dy  (the forward's own gradient for v),  dm = Σ_rows dy ⊙ v / n
 * and the masked add out = out0 + mask ⊙ t with the counter-based dropout mask.
 */
import { type DropoutKey, dropoutMask } from '../dropout/dropout.ref';

export interface DoraScaleRefInputs {
  v: Float64Array;
  magnitude: Float64Array;
  norm: Float64Array;
  bias?: Float64Array;
  /** y's starting contents when accumulating. */
  y0?: Float64Array;
}

export function doraScaleRef(p: DoraScaleRefInputs, subtractOne = false): Float64Array {
  const cols = p.magnitude.length;
  return p.v.map((v, i) => {
    const c = i % cols;
    const g = (p.magnitude[c] as number) / (p.norm[c] as number) - (subtractOne ? 1 : 0);
    return (p.y0?.[i] ?? 0) + (p.bias?.[c] ?? 0) + g * v;
  });
}

export function doraScaleBackwardRef(p: DoraScaleRefInputs, dy: Float64Array, subtractOne = false) {
  const cols = p.magnitude.length;
  const dv = dy.map((d, i) => {
    const c = i % cols;
    return ((p.magnitude[c] as number) / (p.norm[c] as number) - (subtractOne ? 1 : 0)) * d;
  });
  const dm = new Float64Array(cols);
  for (let i = 0; i < dy.length; i++)
    dm[i % cols] = (dm[i % cols] as number) + (dy[i] as number) * (p.v[i] as number);
  for (let c = 0; c < cols; c++) dm[c] = (dm[c] as number) / (p.norm[c] as number);
  return { dv, dm };
}

export function dropoutAddRef(out0: Float64Array, t: Float64Array, key: DropoutKey, p: number): Float64Array {
  const mask = dropoutMask(key, t.length, p);
  return out0.map((o, i) => o + (mask[i] as number) * (t[i] as number));
}
