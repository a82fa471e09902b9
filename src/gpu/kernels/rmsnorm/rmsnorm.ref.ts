/**
 * Float64 CPU reference for RMSNorm (Zhang & Sennrich 2019), as Hugging Face's LlamaRMSNorm computes it:
 *   y[r, c] = x[r, c] · rrms[r] · weight[c],   rrms[r] = 1 / √(mean_c x[r, c]² + eps)
 * x and y are row-major [ROWS, C]. Backward, with g = dy ⊙ weight:
 *   dx[r, c] = rrms[r] · (g[r, c] − x[r, c] · rrms[r]² · mean_c(g[r, ·] ⊙ x[r, ·]))
 *   dweight[c] = Σ_r dy[r, c] · x[r, c] · rrms[r]
 * With weightOffset (Gemma's 1), weight + weightOffset stands for weight everywhere but in dweight.
 */

export interface NormShape {
  rows: number;
  cols: number;
  eps: number;
  weightOffset?: number;
}

const offsetWeight = (weight: Float64Array, shape: NormShape) =>
  shape.weightOffset ? weight.map((w) => w + (shape.weightOffset as number)) : weight;

export function rmsNormRef(x: Float64Array, stored: Float64Array, shape: NormShape) {
  const { rows, cols, eps } = shape;
  const weight = offsetWeight(stored, shape);
  const y = new Float64Array(rows * cols);
  const rrms = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sumSquares = 0;
    for (let c = 0; c < cols; c++) sumSquares += (x[r * cols + c] as number) ** 2;
    const inv = 1 / Math.sqrt(sumSquares / cols + eps);
    rrms[r] = inv;
    for (let c = 0; c < cols; c++)
      y[r * cols + c] = (x[r * cols + c] as number) * inv * (weight[c] as number);
  }
  return { y, rrms };
}

/** Recomputes rrms from x in float64, so the reference does not inherit the kernel's saved statistic. */
export function rmsNormBackwardRef(
  x: Float64Array,
  stored: Float64Array,
  dy: Float64Array,
  shape: NormShape,
) {
  const { rows, cols } = shape;
  const { rrms } = rmsNormRef(x, stored, shape);
  const weight = offsetWeight(stored, shape);
  const dx = new Float64Array(rows * cols);
  const dweight = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const inv = rrms[r] as number;
    let dot = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      dot += (dy[i] as number) * (weight[c] as number) * (x[i] as number);
    }
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const xi = x[i] as number;
      const g = (dy[i] as number) * (weight[c] as number);
      dx[i] = inv * (g - (xi * inv * inv * dot) / cols);
      dweight[c] = (dweight[c] as number) + (dy[i] as number) * xi * inv;
    }
  }
  return { dx, dweight };
}
