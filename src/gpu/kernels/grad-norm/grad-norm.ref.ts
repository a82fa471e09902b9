/**
 * Float64 reference for the global gradient norm and clip coefficient, as torch.nn.utils.clip_grad_norm_
 * (norm_type 2) computes them: norm = ‖concat(grads)‖₂, coefficient = min(1, maxNorm / (norm + 1e-6)).
 * maxNorm = 0 means no clipping (Hugging Face's Trainer skips clip_grad_norm_ then): coefficient 1.
 * No backward: the norm feeds the optimizer step, which is never differentiated.
 */

export interface ClipResult {
  norm: number;
  coefficient: number;
}

export function gradNormRef(grads: readonly Float64Array[], maxNorm: number): ClipResult {
  let sumOfSquares = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sumOfSquares += (g[i] as number) ** 2;
  const norm = Math.sqrt(sumOfSquares);
  const coefficient = maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
  return { norm, coefficient };
}

/** The clip state buffer as grad-norm-finish.wgsl writes it: [norm, coefficient, 0, 0]. */
export function clipStateRef(grads: readonly Float64Array[], maxNorm: number): Float64Array {
  const { norm, coefficient } = gradNormRef(grads, maxNorm);
  return Float64Array.from([norm, coefficient, 0, 0]);
}
