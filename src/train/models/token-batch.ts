/**
 * A decoder step's batch on the host: HF's [B, T] ids, attention mask and unshifted labels, and how the
 * step lays them out (prompt tuning's virtual placeholders in front, labels shifted so that position t
 * is scored on token t + 1), with the counts the loss is normalised by.
 */

/**
 * The label tokens a batch is scored on: every position whose next token is a label. With virtual tokens
 * in front (prompt tuning), the first label is scored too, on the last virtual token.
 */
export function labelTokenCount(batch: TokenBatch, virtualTokens = 0): number {
  const from = virtualTokens > 0 ? 0 : 1;
  return batch.labels.reduce((n, row) => n + row.slice(from).filter((l) => l !== -100).length, 0);
}

/** A batch as HF takes it: ids and attention mask [B, T], labels [B, T] with -100 ignored (unshifted). */
export interface TokenBatch {
  ids: number[][];
  attentionMask: number[][];
  labels: number[][];
}

/** The batch as the step's [B, P + T] inputs: P virtual placeholders (id 0, mask 1, label -100) per row. */
export function flatBatch(batch: TokenBatch, B: number, T: number, P = 0) {
  if (batch.ids.length !== B || batch.ids.some((row) => row.length !== T)) {
    throw new Error(`This step was planned for batches of [${B}, ${T}] tokens.`);
  }
  const S = P + T;
  const ids = new Uint32Array(B * S);
  const mask = new Uint32Array(B * S).fill(1);
  const labels = new Int32Array(B * S).fill(-100);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      ids[b * S + P + t] = batch.ids[b]?.[t] ?? 0;
      mask[b * S + P + t] = batch.attentionMask[b]?.[t] ?? 0;
    }
    // Row position s is scored on the token at s + 1, which is the batch's token s + 1 − P.
    for (let s = Math.max(P - 1, 0); s + 1 < S; s++) labels[b * S + s] = batch.labels[b]?.[s + 1 - P] ?? -100;
  }
  const counted = labels.reduce((n, l) => n + (l === -100 ? 0 : 1), 0);
  return { ids, mask, labels, counted };
}

/** Position ids offset + t for each of B rows of T tokens. */
export function positionIds(B: number, T: number, offset: number): Uint32Array {
  return Uint32Array.from({ length: B * T }, (_, n) => offset + (n % T));
}
