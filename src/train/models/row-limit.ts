/**
 * The most tokens one row (prefix or virtual tokens included, or a generation's whole cache) may hold,
 * where the model sets a hard limit: GPT-2's learned positions. RoPE models have none
 * (max_position_embeddings is only what they were trained on), sliding windows included: the attention
 * kernels mask the window, however long the row.
 */
import type { DecoderConfig } from './config';

export interface RowLimit {
  tokens: number;
  /** Why, as a sentence's subject and verb: "GPT2LMHeadModel has 1024 learned positions". */
  why: string;
}

export function rowTokenLimit(c: DecoderConfig): RowLimit | undefined {
  return c.positions === 'learned'
    ? { tokens: c.P, why: `${c.architecture} has ${c.P} learned positions` }
    : undefined;
}

/** The error for a row of `tokens` past the limit. */
export function rowTooLong(limit: RowLimit, tokens: number, what = 'this step holds'): Error {
  return new Error(`${limit.why}; ${what} ${tokens} tokens per row.`);
}

/** The longest row the studio offers: the hard limit, or max_position_embeddings where that is lower. */
export function longestRow(c: DecoderConfig): number {
  return Math.min(c.P, rowTokenLimit(c)?.tokens ?? c.P);
}
