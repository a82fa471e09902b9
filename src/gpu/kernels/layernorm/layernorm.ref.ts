/**
 * Float64 CPU reference for LayerNorm (Ba, Kiros & Hinton 2016) as torch.nn.LayerNorm computes it (HF GPT-2,
 * BERT), over the last dimension C of a row-major [ROWS, C] x, with the biased variance:
 *   y[r, c] = (x[r, c] − mean[r]) · rstd[r] · gamma[c] + beta[c],   rstd[r] = 1 / √(var[r] + eps)
 * Backward, with xhat = (x − mean) · rstd and g = dy ⊙ gamma:
 *   dx[r, c] = rstd[r] · (g[r, c] − mean_c g[r, ·] − xhat[r, c] · mean_c(g ⊙ xhat)[r])
 *   dgamma[c] = Σ_r dy[r, c] · xhat[r, c]      dbeta[c] = Σ_r dy[r, c]
 */
import type { NormShape } from '../rmsnorm/rmsnorm.ref';

export function layerNormRef(
  x: Float64Array,
  gamma: Float64Array,
  beta: Float64Array,
  { rows, cols, eps }: NormShape,
) {
  const y = new Float64Array(rows * cols);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += x[r * cols + c] as number;
    const mu = sum / cols;
    let squares = 0;
    for (let c = 0; c < cols; c++) squares += ((x[r * cols + c] as number) - mu) ** 2;
    const inv = 1 / Math.sqrt(squares / cols + eps);
    mean[r] = mu;
    rstd[r] = inv;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      y[i] = ((x[i] as number) - mu) * inv * (gamma[c] as number) + (beta[c] as number);
    }
  }
  return { y, mean, rstd };
}

/** Recomputes mean and rstd from x in float64, so the reference does not inherit the kernel's statistics. */
export function layerNormBackwardRef(
  x: Float64Array,
  gamma: Float64Array,
  dy: Float64Array,
  shape: NormShape,
) {
  const { rows, cols } = shape;
  const { mean, rstd } = layerNormRef(x, gamma, new Float64Array(cols), shape);
  const dx = new Float64Array(rows * cols);
  const dgamma = new Float64Array(cols);
  const dbeta = new Float64Array(cols);
  const xhat = (i: number, r: number) => ((x[i] as number) - (mean[r] as number)) * (rstd[r] as number);
  for (let r = 0; r < rows; r++) {
    let sumG = 0;
    let sumGXhat = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const g = (dy[i] as number) * (gamma[c] as number);
      sumG += g;
      sumGXhat += g * xhat(i, r);
    }
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const g = (dy[i] as number) * (gamma[c] as number);
      dx[i] = (rstd[r] as number) * (g - sumG / cols - (xhat(i, r) * sumGXhat) / cols);
      dgamma[c] = (dgamma[c] as number) + (dy[i] as number) * xhat(i, r);
      dbeta[c] = (dbeta[c] as number) + (dy[i] as number);
    }
  }
  return { dx, dgamma, dbeta };
}
