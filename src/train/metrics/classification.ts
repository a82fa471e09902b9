/**
 * Classification metrics from predicted and true class ids: the confusion matrix, accuracy, and F1 as
 * scikit-learn defines it (what GLUE's MRPC metric and HF `evaluate` report): binary F1 of the positive
 * class 1 for two classes, the unweighted mean of per-class F1 (macro) for more. A class with no
 * predictions and no examples has F1 0, as sklearn's zero_division=0 gives.
 */

export class MetricsInputError extends Error {
  override readonly name = 'MetricsInputError';
}

/** matrix[truth][prediction] counts, K × K. */
export type ConfusionMatrix = number[][];

export interface ClassificationMetrics {
  accuracy: number;
  /** Binary F1 of class 1 when K = 2, macro F1 otherwise. */
  f1: number;
  f1Kind: 'binary' | 'macro';
  /** Per-class precision, recall and F1. */
  perClass: { precision: number; recall: number; f1: number; support: number }[];
  confusion: ConfusionMatrix;
  count: number;
}

function checkIds(what: string, ids: readonly number[], K: number): void {
  ids.forEach((id, i) => {
    if (!(Number.isInteger(id) && id >= 0 && id < K))
      throw new MetricsInputError(`${what}[${i}] is ${id}; class ids must be integers in [0, ${K}).`);
  });
}

export function confusionMatrix(
  truth: readonly number[],
  predicted: readonly number[],
  K: number,
): ConfusionMatrix {
  if (!(Number.isInteger(K) && K >= 2)) throw new MetricsInputError(`Need at least 2 classes, got ${K}.`);
  if (truth.length !== predicted.length)
    throw new MetricsInputError(
      `${truth.length} labels but ${predicted.length} predictions; they must pair up.`,
    );
  checkIds('labels', truth, K);
  checkIds('predictions', predicted, K);
  const matrix = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  truth.forEach((t, i) => {
    const row = matrix[t] as number[];
    const p = predicted[i] as number;
    row[p] = (row[p] as number) + 1;
  });
  return matrix;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export function classificationMetrics(
  truth: readonly number[],
  predicted: readonly number[],
  K: number,
): ClassificationMetrics {
  const confusion = confusionMatrix(truth, predicted, K);
  const count = truth.length;
  let correct = 0;
  for (let k = 0; k < K; k++) correct += confusion[k]?.[k] as number;
  const perClass = confusion.map((row, k) => {
    const tp = row[k] as number;
    const support = row.reduce((a, b) => a + b, 0);
    const predictedK = confusion.reduce((n, r) => n + (r[k] as number), 0);
    const precision = ratio(tp, predictedK);
    const recall = ratio(tp, support);
    return { precision, recall, f1: ratio(2 * tp, support + predictedK), support };
  });
  const f1 = K === 2 ? (perClass[1]?.f1 as number) : perClass.reduce((s, c) => s + c.f1, 0) / K;
  return {
    accuracy: ratio(correct, count),
    f1,
    f1Kind: K === 2 ? 'binary' : 'macro',
    perClass,
    confusion,
    count,
  };
}

/** The arg-max class of each row of [B, K] logits (the first on ties, as torch.argmax). */
export function argmaxRows(logits: ArrayLike<number>, K: number): number[] {
  const rows = logits.length / K;
  if (!Number.isInteger(rows))
    throw new MetricsInputError(`${logits.length} logits are not rows of ${K} classes.`);
  return Array.from({ length: rows }, (_, b) => {
    let best = 0;
    for (let k = 1; k < K; k++)
      if ((logits[b * K + k] as number) > (logits[b * K + best] as number)) best = k;
    return best;
  });
}
