/**
 * Rows of exactly the sequence length from many short examples (packing), or from one long one
 * (plain text read whole, cut as run_clm's group_texts cuts it).
 * Packing concatenates the examples, each followed by EOS unless it already ends with EOS, and cuts the
 * stream into rows of `seqLen` tokens; examples run across row boundaries (TRL's "wrapped" packing, the
 * ConstantLengthDataset of older TRL). Labels travel with their tokens, so masked prompts stay masked; the
 * EOS added between examples is trained when the example's last token is. Attention is not reset between
 * packed examples, as in both of those. The last row may be shorter; nothing is dropped.
 */
import type { TokenExample } from '../batches';

export interface LabelledExample {
  ids: number[];
  labels: number[];
}

/** Cuts one example into rows of `seqLen` tokens (the last may be shorter), labels alongside. */
export function chunkExample(example: TokenExample, seqLen: number): LabelledExample[] {
  if (!(seqLen >= 1)) throw new RangeError(`seqLen must be at least 1, not ${seqLen}`);
  const labels = example.labels ?? example.ids;
  const rows: LabelledExample[] = [];
  for (let start = 0; start < example.ids.length; start += seqLen)
    rows.push({ ids: example.ids.slice(start, start + seqLen), labels: labels.slice(start, start + seqLen) });
  return rows;
}

export function packExamples(
  examples: readonly TokenExample[],
  seqLen: number,
  eosTokenId?: number,
): LabelledExample[] {
  const stream: LabelledExample = { ids: [], labels: [] };
  for (const example of examples) {
    const labels = example.labels ?? example.ids;
    // A loop, not push(...ids): spreading a long example overflows the argument limit.
    for (let i = 0; i < example.ids.length; i++) {
      stream.ids.push(example.ids[i] as number);
      stream.labels.push(labels[i] ?? -100);
    }
    const last = example.ids[example.ids.length - 1];
    if (eosTokenId !== undefined && example.ids.length > 0 && last !== eosTokenId) {
      stream.ids.push(eosTokenId);
      stream.labels.push(labels[labels.length - 1] === -100 ? -100 : eosTokenId);
    }
  }
  return chunkExample(stream, seqLen);
}
