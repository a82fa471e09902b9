/**
 * Float64 reference for the row-block copy: forward writes block [P, C] over rows [b·T, b·T + P) of
 * x [B·T, C] for every b (the other rows pass through); backward gives dblock = Σ_b of those rows of
 * dout, and dx = dout with those rows zeroed (they were overwritten, so x there does not matter).
 */

export interface RowBlockLayout {
  B: number;
  T: number;
  P: number;
  C: number;
}

export function rowBlockCopyRef(x: Float64Array, block: Float64Array, l: RowBlockLayout): Float64Array {
  const out = Float64Array.from(x);
  for (let b = 0; b < l.B; b++) out.set(block.subarray(0, l.P * l.C), b * l.T * l.C);
  return out;
}

export function rowBlockCopyBackwardRef(
  dout: Float64Array,
  l: RowBlockLayout,
): { dblock: Float64Array; dx: Float64Array } {
  const dblock = new Float64Array(l.P * l.C);
  const dx = Float64Array.from(dout);
  for (let b = 0; b < l.B; b++) {
    for (let i = 0; i < l.P * l.C; i++) {
      const at = b * l.T * l.C + i;
      dblock[i] = (dblock[i] as number) + (dout[at] as number);
      dx[at] = 0;
    }
  }
  return { dblock, dx };
}
