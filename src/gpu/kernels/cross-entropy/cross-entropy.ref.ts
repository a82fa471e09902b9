/**
 * Float64 reference for softmax cross-entropy over the vocabulary, forward and backward side by side.
 * Forward: loss[n] = logsumexp(logits[n, :]) − logits[n, label[n]], 0 where the label is ignored
 * (-100, or anything outside [0, V)). Backward of Σ_n scale·loss[n]: (softmax − onehot)·scale, 0 on
 * ignored rows. With a soft-cap (Gemma 2) the logits are cap·tanh(x / cap) first, and the gradient of
 * each x is multiplied by 1 − tanh(x / cap)².
 */

function ignored(label: number, vocab: number): boolean {
  return !(label >= 0 && label < vocab);
}

function logSumExp(logits: Float64Array, base: number, vocab: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < vocab; v++) max = Math.max(max, logits[base + v] as number);
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp((logits[base + v] as number) - max);
  return max + Math.log(sum);
}

const capped = (logits: Float64Array, softcap?: number) =>
  softcap === undefined ? logits : logits.map((x) => softcap * Math.tanh(x / softcap));

export function crossEntropyRef(
  raw: Float64Array,
  labels: ArrayLike<number>,
  vocab: number,
  softcap?: number,
): Float64Array {
  const logits = capped(raw, softcap);
  const loss = new Float64Array(labels.length);
  for (let n = 0; n < labels.length; n++) {
    const label = labels[n] as number;
    if (ignored(label, vocab)) continue;
    loss[n] = logSumExp(logits, n * vocab, vocab) - (logits[n * vocab + label] as number);
  }
  return loss;
}

export function crossEntropyBackwardRef(
  raw: Float64Array,
  labels: ArrayLike<number>,
  vocab: number,
  scale: number,
  softcap?: number,
  /** Batch row n's own extra factor (a sequence objective's weight); 1 for every row when absent. */
  rowScale: (n: number) => number = () => 1,
): Float64Array {
  const logits = capped(raw, softcap);
  const slope = (i: number) => (softcap === undefined ? 1 : 1 - Math.tanh((raw[i] as number) / softcap) ** 2);
  const dlogits = new Float64Array(labels.length * vocab);
  for (let n = 0; n < labels.length; n++) {
    const label = labels[n] as number;
    if (ignored(label, vocab)) continue;
    const base = n * vocab;
    const lse = logSumExp(logits, base, vocab);
    for (let v = 0; v < vocab; v++) {
      const p = Math.exp((logits[base + v] as number) - lse);
      dlogits[base + v] = (p - (v === label ? 1 : 0)) * scale * rowScale(n) * slope(base + v);
    }
  }
  return dlogits;
}

/** The mean over non-ignored rows, as F.cross_entropy(reduction='mean') (0, not NaN, when all are ignored). */
export function meanCrossEntropyRef(logits: Float64Array, labels: ArrayLike<number>, vocab: number): number {
  const loss = crossEntropyRef(logits, labels, vocab);
  let counted = 0;
  let sum = 0;
  for (let n = 0; n < labels.length; n++) {
    if (ignored(labels[n] as number, vocab)) continue;
    counted++;
    sum += loss[n] as number;
  }
  return counted === 0 ? 0 : sum / counted;
}
