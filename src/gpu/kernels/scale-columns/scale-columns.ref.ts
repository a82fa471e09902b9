/**
 * Float64 reference for column scaling, forward and backward side by side, over a row-major
 * [rows, cols] matrix. Forward: y[n, c] = x[n, c]·l[c].
 * Backward: dx[n, c] = dy[n, c]·l[c]; dl[c] = Σ_n dy[n, c]·x[n, c].
 */

export function scaleColumnsRef(x: Float64Array, l: Float64Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let n = 0; n < rows; n++)
    for (let c = 0; c < cols; c++) y[n * cols + c] = (x[n * cols + c] as number) * (l[c] as number);
  return y;
}

export function scaleColumnsBackwardRef(
  x: Float64Array,
  l: Float64Array,
  dy: Float64Array,
  rows: number,
  cols: number,
): { dx: Float64Array; dl: Float64Array } {
  const dx = scaleColumnsRef(dy, l, rows, cols);
  const dl = new Float64Array(cols);
  for (let n = 0; n < rows; n++)
    for (let c = 0; c < cols; c++)
      dl[c] = (dl[c] as number) + (dy[n * cols + c] as number) * (x[n * cols + c] as number);
  return { dx, dl };
}
