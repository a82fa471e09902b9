/**
 * The most tokens one row (prefix or virtual tokens included, or a generation's whole cache) may hold,
 * where the model sets a hard limit: GPT-2's learned positions, or a sliding window. Within a window of W
 * tokens sliding-window attention is exactly full causal attention; past it, it would need a windowed
 * mask, which Whetstone's attention does not have, so longer rows are refused rather than run wrong.
 * RoPE models without a window have no hard limit (max_position_embeddings is only what they were
 * trained on).
 */
import type { DecoderConfig } from './config';

export interface RowLimit {
  tokens: number;
  /** Why, as a sentence's subject and verb: "GPT2LMHeadModel has 1024 learned positions". */
  why: string;
}

export function rowTokenLimit(c: DecoderConfig): RowLimit | undefined {
  const limits: RowLimit[] = [];
  if (c.positions === 'learned')
    limits.push({ tokens: c.P, why: `${c.architecture} has ${c.P} learned positions` });
  if (c.slidingWindow !== undefined) {
    limits.push({
      tokens: c.slidingWindow,
      why:
        `${c.architecture} attends within a sliding window of ${c.slidingWindow} tokens, which Whetstone ` +
        'runs as full causal attention on rows up to that length',
    });
  }
  return limits.sort((a, b) => a.tokens - b.tokens)[0];
}

/** The error for a row of `tokens` past the limit. */
export function rowTooLong(limit: RowLimit, tokens: number, what = 'this step holds'): Error {
  return new Error(`${limit.why}; ${what} ${tokens} tokens per row.`);
}

/** The longest row the studio offers: the hard limit, or max_position_embeddings where that is lower. */
export function longestRow(c: DecoderConfig): number {
  return Math.min(c.P, rowTokenLimit(c)?.tokens ?? c.P);
}
