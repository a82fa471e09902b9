/**
 * Token examples into fixed-shape batches [batchSize, T], so one recorded step serves a whole run:
 * rows right-padded (mask 0, labels -100), and a short last batch filled with empty rows, which the
 * loss ignores. T is the longest example rounded up to a multiple of 8, at most the sequence length.
 */
import type { TokenBatch } from './models/decoder-step';

export interface TokenExample {
  ids: number[];
  /** Per-token labels (-100 = not trained on, e.g. the prompt); the ids themselves when absent. */
  labels?: number[];
}

export function batchLength(examples: TokenExample[], seqLen: number): number {
  const longest = Math.max(1, ...examples.map((e) => e.ids.length));
  return Math.min(seqLen, Math.ceil(longest / 8) * 8);
}

export function fixedBatch(examples: TokenExample[], rows: number, T: number, padId = 0): TokenBatch {
  const batch: TokenBatch = { ids: [], attentionMask: [], labels: [] };
  for (let r = 0; r < rows; r++) {
    const e = examples[r];
    const ids = (e?.ids ?? []).slice(0, T);
    const labels = (e?.labels ?? e?.ids ?? []).slice(0, T);
    const pad = T - ids.length;
    batch.ids.push([...ids, ...Array(pad).fill(padId)]);
    batch.attentionMask.push([...ids.map(() => 1), ...Array(pad).fill(0)]);
    batch.labels.push([...labels, ...Array(pad).fill(-100)]);
  }
  return batch;
}
