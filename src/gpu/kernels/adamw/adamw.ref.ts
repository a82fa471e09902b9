/**
 * Float64 reference for one AdamW update, torch.optim.AdamW (Loshchilov & Hutter, "Decoupled Weight
 * Decay Regularization", 2019, Algorithm 2 as PyTorch implements it), with the gradient scaled first by
 * the clip coefficient of clip_grad_norm_:
 *   g = clip·grad;  p ← p − lr·wd·p;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
 *   m̂ = m / (1 − β1ᵗ);  v̂ = v / (1 − β2ᵗ);  p ← p − lr·m̂ / (sqrt(v̂) + eps).
 * t is the 1-based update count. No backward: an optimizer step is never differentiated.
 */

export interface AdamwState {
  param: Float64Array;
  expAvg: Float64Array;
  expAvgSq: Float64Array;
}

export interface AdamwHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** One update at step t (1-based); returns the new state and leaves `state` as it was. */
export function adamwStepRef(
  state: AdamwState,
  grad: Float64Array,
  hyper: AdamwHyper,
  step: number,
  clip = 1,
): AdamwState {
  const { lr, beta1, beta2, eps, weightDecay } = hyper;
  const n = state.param.length;
  const param = new Float64Array(n);
  const expAvg = new Float64Array(n);
  const expAvgSq = new Float64Array(n);
  const bias1 = 1 - beta1 ** step;
  const bias2 = 1 - beta2 ** step;
  for (let i = 0; i < n; i++) {
    const g = clip * (grad[i] as number);
    let p = state.param[i] as number;
    p -= lr * weightDecay * p;
    const m = beta1 * (state.expAvg[i] as number) + (1 - beta1) * g;
    const v = beta2 * (state.expAvgSq[i] as number) + (1 - beta2) * g * g;
    p -= (lr * (m / bias1)) / (Math.sqrt(v / bias2) + eps);
    param[i] = p;
    expAvg[i] = m;
    expAvgSq[i] = v;
  }
  return { param, expAvg, expAvgSq };
}
