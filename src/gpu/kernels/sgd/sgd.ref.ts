/**
 * Float64 reference for one plain SGD update, torch.optim.SGD with momentum 0 (dampening 0, nesterov
 * off, maximize off), the gradient scaled first by the clip coefficient of clip_grad_norm_:
 *   d = clip·grad + wd·p;  p ← p − lr·d.
 * No backward: an optimizer step is never differentiated.
 */

export interface SgdHyper {
  lr: number;
  weightDecay: number;
}

export function sgdStepRef(param: Float64Array, grad: Float64Array, hyper: SgdHyper, clip = 1): Float64Array {
  const next = new Float64Array(param.length);
  for (let i = 0; i < param.length; i++) {
    const p = param[i] as number;
    const d = clip * (grad[i] as number) + hyper.weightDecay * p;
    next[i] = p - hyper.lr * d;
  }
  return next;
}
