/**
 * Encodes classification inputs exactly as a Hugging Face tokenizer does: tokenizer(a) or
 * tokenizer(a, b) through the tokenizer's own post-processor (BERT: [CLS] a [SEP] b [SEP] with token
 * types 0…0 1…1; RoBERTa: <s> a </s></s> b </s> over byte-level BPE pieces, all type 0), truncated
 * "longest_first" to maxLength as transformers' default truncation=True does with a fast tokenizer
 * (tokenizers' truncate_encodings: `longestFirstLengths`), and padded on the right into [B, T] batches.
 *
 * RoBERTa's types: the Rust RobertaProcessing sets every type id to 0 (and RobertaTokenizer's
 * create_token_type_ids_from_sequences gives zeros; the model has type_vocab_size 1), while
 * @huggingface/tokenizers' JS RobertaProcessing marks the second text 1, so they are zeroed here.
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
  /** The post-processor is RobertaProcessing: every token type is 0. */
  private readonly typesAllZero: boolean;
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
    this.typesAllZero = usesRobertaProcessing(tokenizerJson);
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
    if (second) {
      const [n1, n2] = longestFirstLengths(first.length, second.length, budget);
      first = first.slice(0, n1);
      second = second.slice(0, n2);
    } else {
      first = first.slice(0, budget);
    }
    // Nothing cut: the post-processor's own output. Otherwise the cut pieces go through the same
    // template (re-encoding decoded pieces could split them differently).
    const full = this.tokenizer.encode(a, { text_pair: b ?? null, return_token_type_ids: true });
    const encoded =
      first.length + (second?.length ?? 0) ===
      full.ids.length - (second ? this.added.pair : this.added.single)
        ? { ids: full.ids, tokenTypes: full.token_type_ids }
        : this.joinTruncated(first, second);
    if (this.typesAllZero) encoded.tokenTypes = encoded.tokenTypes.map(() => 0);
    return encoded;
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

/**
 * How many pieces of each text longest_first keeps within `budget` (maxLength less the special tokens),
 * as tokenizers' truncate_encodings decides it: with n1 ≤ n2, the longer text is cut to
 * max(n1, budget − n1), and when both must be cut the shorter keeps ⌊budget/2⌋ and the longer the rest
 * (a tie gives the extra token to the second text).
 */
export function longestFirstLengths(first: number, second: number, budget: number): [number, number] {
  if (first + second <= budget) return [first, second];
  const swap = first > second;
  let n1 = swap ? second : first;
  let n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  const [keepFirst, keepSecond] = swap ? [n2, n1] : [n1, n2];
  return [Math.min(first, keepFirst), Math.min(second, keepSecond)];
}

/** Whether tokenizer.json's post-processor is (or, in a Sequence, contains) RobertaProcessing. */
function usesRobertaProcessing(tokenizerJson: unknown): boolean {
  const isRoberta = (p: unknown): boolean => {
    if (!p || typeof p !== 'object') return false;
    const processor = p as { type?: unknown; processors?: unknown };
    if (processor.type === 'RobertaProcessing') return true;
    return Array.isArray(processor.processors) && processor.processors.some(isRoberta);
  };
  return isRoberta((tokenizerJson as { post_processor?: unknown } | null)?.post_processor);
}
