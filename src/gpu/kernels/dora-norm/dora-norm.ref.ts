/**
 * Float64 reference for DoRA's weight norm: norm[o] = ‖W[o, :] + s·(B·A)[o, :]‖₂, read straight from
 * the definition, one output row at a time. W is [OUT, IN], or [IN, OUT] with layout 'in-out'.
 * There is no backward to mirror: the norm is detached from the gradient (DoRA §4.3, PEFT dora.py).
 */

export interface DoraNormRefShapes {
  OUT: number;
  IN: number;
  r: number;
  scale: number;
  layout: 'out-in' | 'in-out';
}

export function doraNormRef(
  w: Float64Array,
  a: Float64Array,
  b: Float64Array,
  s: DoraNormRefShapes,
): Float64Array {
  const norm = new Float64Array(s.OUT);
  for (let o = 0; o < s.OUT; o++) {
    let sum = 0;
    for (let k = 0; k < s.IN; k++) {
      let low = 0;
      for (let j = 0; j < s.r; j++) low += (b[o * s.r + j] as number) * (a[j * s.IN + k] as number);
      const weight = (s.layout === 'out-in' ? w[o * s.IN + k] : w[k * s.OUT + o]) as number;
      const v = weight + s.scale * low;
      sum += v * v;
    }
    norm[o] = Math.sqrt(sum);
  }
  return norm;
}
