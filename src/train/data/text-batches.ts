/**
 * Plain-text examples into causal-LM batches, as transformers' data collator would give them:
 * each text tokenized with the tokenizer's own special tokens, EOS appended unless the text already
 * ends with it, truncated to the sequence length (counted), right-padded, labels = ids with padding
 * as -100 (the model shifts them). Rows are padded to a multiple of 8 tokens so few step shapes recur.
 */
import type { TokenExample } from '../batches';
import type { TokenBatch } from '../models/decoder-step';

export interface TokenizedText {
  ids: number[];
  truncated: boolean;
}

export function tokenizeText(
  encode: (text: string) => number[],
  text: string,
  eosTokenId: number | undefined,
  maxLength: number,
): TokenizedText {
  const ids = encode(text);
  if (eosTokenId !== undefined && ids[ids.length - 1] !== eosTokenId) ids.push(eosTokenId);
  return { ids: ids.slice(0, maxLength), truncated: ids.length > maxLength };
}

export function padTo(length: number, multiple: number, max: number): number {
  return Math.min(max, Math.ceil(length / multiple) * multiple);
}

export function textBatches(
  examples: number[][],
  batchSize: number,
  maxLength: number,
  padId = 0,
): TokenBatch[] {
  return exampleBatches(
    examples.map((ids) => ({ ids })),
    batchSize,
    maxLength,
    padId,
  );
}

/** The same batches from token examples whose labels may mask tokens (-100), e.g. a prompt. */
export function exampleBatches(
  examples: TokenExample[],
  batchSize: number,
  maxLength: number,
  padId = 0,
): TokenBatch[] {
  const batches: TokenBatch[] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const rows = examples.slice(start, start + batchSize);
    const T = padTo(Math.max(...rows.map((r) => r.ids.length)), 8, maxLength);
    const pad = (row: number[], fill: number) => [...row, ...Array(T - row.length).fill(fill)];
    batches.push({
      ids: rows.map((r) => pad(r.ids, padId)),
      attentionMask: rows.map((r) =>
        pad(
          r.ids.map(() => 1),
          0,
        ),
      ),
      labels: rows.map((r) => pad(r.labels ?? r.ids, -100)),
    });
  }
  return batches;
}
