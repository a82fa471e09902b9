/**
 * Float64 reference for DPO's sigmoid loss from per-token cross-entropies (preference-loss.wgsl), the
 * forward and its gradient side by side: logp = −Σ loss over each sequence, δ = (logp_c − ref_c) −
 * (logp_r − ref_r), pair loss softplus(−β·δ), and the gradient of Σ_p weight[p]·pairLoss[p] with respect
 * to each sequence's logp, negated (so that it multiplies the cross-entropy's own gradient).
 */

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

export function preferenceLossRef(
  loss: ArrayLike<number>,
  reference: ArrayLike<number>,
  weight: ArrayLike<number>,
  beta: number,
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
    const delta =
      (logp[p] as number) -
      (reference[p] as number) -
      ((logp[B + p] as number) - (reference[B + p] as number));
    pairLoss[p] = softplus(-beta * delta);
    // d softplus(−βδ)/dδ = −β·σ(−βδ); d logp_c/d(its cross-entropy sum) = −1.
    const scale = (weight[p] as number) * beta * (1 / (1 + Math.exp(beta * delta)));
    rowScales[p] = scale;
    rowScales[B + p] = -scale;
  }
  return { logp, pairLoss, rowScales };
}
