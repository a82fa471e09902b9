/**
 * Encodes classification inputs exactly as a Hugging Face tokenizer does: tokenizer(a) or
 * tokenizer(a, b) through the tokenizer's own post-processor (BERT: [CLS] a [SEP] b [SEP] with token
 * types 0…0 1…1; RoBERTa: <s> a </s></s> b </s>, all type 0), truncated "longest_first" to maxLength as
 * transformers' default truncation=True does, and padded on the right into [B, T] batches.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { ClassificationBatch } from './classifier-step';

export class PairEncodingError extends Error {
  override readonly name = 'PairEncodingError';
}

export interface EncodedExample {
  ids: number[];
  tokenTypes: number[];
}

export class PairEncoder {
  private readonly tokenizer: Tokenizer;
  /** Special tokens the template adds to a single text and to a pair. */
  private readonly added: { single: number; pair: number };
  readonly padId: number;

  constructor(tokenizerJson: unknown, config: object = {}) {
    const tokenizerConfig = config as Record<string, unknown>;
    try {
      this.tokenizer = new Tokenizer(tokenizerJson as never, tokenizerConfig as never);
    } catch (error) {
      throw new PairEncodingError(`tokenizer.json could not be read: ${String(error)}`);
    }
    const count = (a: string, b?: string) =>
      this.tokenizer.encode(a, { text_pair: b ?? null }).ids.length -
      this.tokenizer.encode(a, { text_pair: b ?? null, add_special_tokens: false }).ids.length;
    this.added = { single: count('a'), pair: count('a', 'b') };
    const padToken = typeof tokenizerConfig.pad_token === 'string' ? tokenizerConfig.pad_token : undefined;
    this.padId =
      (padToken ? this.tokenizer.token_to_id(padToken) : undefined) ??
      this.tokenizer.token_to_id('[PAD]') ??
      this.tokenizer.token_to_id('<pad>') ??
      0;
  }

  /** One example, truncated to maxLength tokens (specials included) by dropping from the longer text. */
  encode(a: string, b?: string, maxLength = 512): EncodedExample {
    const pieces = (text: string) => this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    let first = pieces(a);
    let second = b === undefined ? undefined : pieces(b);
    const budget = maxLength - (second ? this.added.pair : this.added.single);
    if (budget < (second ? 2 : 1))
      throw new PairEncodingError(
        `maxLength ${maxLength} leaves no room for text beside the special tokens.`,
      );
    // longest_first: remove one token at a time from the end of the longer sequence.
    while (first.length + (second?.length ?? 0) > budget) {
      if (second && second.length > first.length) second = second.slice(0, -1);
      else first = first.slice(0, -1);
    }
    // Nothing cut: the post-processor's own output. Otherwise the cut pieces go through the same
    // template (re-encoding decoded pieces could split them differently).
    const full = this.tokenizer.encode(a, { text_pair: b ?? null, return_token_type_ids: true });
    if (
      first.length + (second?.length ?? 0) ===
      full.ids.length - (second ? this.added.pair : this.added.single)
    )
      return { ids: full.ids, tokenTypes: full.token_type_ids };
    return this.joinTruncated(first, second);
  }

  /** The template applied to already-truncated pieces: found by encoding a marker pair and splicing. */
  private joinTruncated(first: number[], second: number[] | undefined): EncodedExample {
    const marker = this.tokenizer.encode('a', {
      text_pair: second ? 'b' : null,
      return_token_type_ids: true,
    });
    const aId = this.tokenizer.encode('a', { add_special_tokens: false }).ids[0];
    const bId = this.tokenizer.encode('b', { add_special_tokens: false }).ids[0];
    const ids: number[] = [];
    const tokenTypes: number[] = [];
    const aAt = marker.ids.indexOf(aId as number);
    const bAt = second ? marker.ids.lastIndexOf(bId as number) : -1;
    marker.ids.forEach((id, i) => {
      const type = marker.token_type_ids[i] as number;
      const isFirst = i === aAt;
      const isSecond = second !== undefined && i === bAt;
      const part = isFirst ? first : isSecond ? second : [id];
      for (const p of part) {
        ids.push(p);
        tokenTypes.push(type);
      }
    });
    return { ids, tokenTypes };
  }

  /** Pads examples on the right to the longest (or `length`) into a batch. */
  batch(examples: EncodedExample[], labels: number[], length?: number): ClassificationBatch {
    const T = length ?? Math.max(...examples.map((e) => e.ids.length));
    const pad = (row: number[], fill: number) => [...row, ...Array(T - row.length).fill(fill)];
    for (const [i, e] of examples.entries())
      if (e.ids.length > T)
        throw new PairEncodingError(
          `Example ${i} has ${e.ids.length} tokens, more than the batch length ${T}.`,
        );
    return {
      ids: examples.map((e) => pad(e.ids, this.padId)),
      tokenTypes: examples.map((e) => pad(e.tokenTypes, 0)),
      attentionMask: examples.map((e) =>
        pad(
          e.ids.map(() => 1),
          0,
        ),
      ),
      labels,
    };
  }
}
