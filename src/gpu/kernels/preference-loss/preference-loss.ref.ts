/**
 * Float64 reference for DPO's losses from per-token cross-entropies (preference-loss.wgsl), the forward
 * and its gradient side by side: logp = −Σ loss over each sequence, r = logp − ref, δ = r_c − r_r, and
 * the pair loss of TRL's loss_type: sigmoid softplus(−β·δ), hinge max(0, 1 − β·δ), ipo
 * (r_c/n_c − r_r/n_r − 1/(2β))² with n a sequence's label count (at least 1). rowScales is the gradient
 * of Σ_p weight[p]·pairLoss[p] with respect to each sequence's logp, negated (so that it multiplies the
 * cross-entropy's own gradient).
 */
import type { PreferenceLossType } from './preference-loss';

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

export function preferenceLossRef(
  loss: ArrayLike<number>,
  reference: ArrayLike<number>,
  weight: ArrayLike<number>,
  beta: number,
  lossType: PreferenceLossType = 'sigmoid',
  /** Each sequence's label count (IPO); every sequence's T when absent. */
  counts?: ArrayLike<number>,
): { logp: Float64Array; pairLoss: Float64Array; rowScales: Float64Array } {
  const B = weight.length;
  const T = loss.length / (2 * B);
  const logp = new Float64Array(2 * B);
  for (let s = 0; s < 2 * B; s++) {
    let sum = 0;
    for (let t = 0; t < T; t++) sum += loss[s * T + t] as number;
    logp[s] = -sum;
  }
  const pairLoss = new Float64Array(B);
  const rowScales = new Float64Array(2 * B);
  for (let p = 0; p < B; p++) {
    const chosen = (logp[p] as number) - (reference[p] as number);
    const rejected = (logp[B + p] as number) - (reference[B + p] as number);
    const z = beta * (chosen - rejected);
    // ∂pairLoss/∂logp of the chosen and of the rejected sequence.
    let dChosen: number;
    let dRejected: number;
    if (lossType === 'hinge') {
      pairLoss[p] = Math.max(0, 1 - z);
      dChosen = z < 1 ? -beta : 0;
      dRejected = -dChosen;
    } else if (lossType === 'ipo') {
      const nc = Math.max(1, counts?.[p] ?? T);
      const nr = Math.max(1, counts?.[B + p] ?? T);
      const gap = chosen / nc - rejected / nr - 1 / (2 * beta);
      pairLoss[p] = gap ** 2;
      dChosen = (2 * gap) / nc;
      dRejected = (-2 * gap) / nr;
    } else {
      pairLoss[p] = softplus(-z);
      dChosen = -beta / (1 + Math.exp(z));
      dRejected = -dChosen;
    }
    const w = weight[p] as number;
    rowScales[p] = -w * dChosen;
    rowScales[B + p] = -w * dRejected;
  }
  return { logp, pairLoss, rowScales };
}
