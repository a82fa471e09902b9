/**
 * Float64 reference for column sums. Forward: out[c] = Σ_r x[r, c].
 * Backward: dx[r, c] = dout[c], a broadcast, so the kernel needs no backward of its own.
 */

export function sumRowsRef(x: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c] = (out[c] as number) + (x[r * cols + c] as number);
  return out;
}

export function sumRowsBackwardRef(dout: Float64Array, rows: number): Float64Array {
  const cols = dout.length;
  const dx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) dx.set(dout, r * cols);
  return dx;
}
