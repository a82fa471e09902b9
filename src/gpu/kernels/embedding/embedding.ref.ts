/**
 * Float64 reference for the token embedding, forward and backward, in plain loops.
 * Forward: out[n, c] = table[ids[n], c], a zero row for an id outside [0, V).
 * Backward: dtable[v, c] = Σ_{n: ids[n] = v} dout[n, c] (+ accumulateInto), out-of-range ids skipped.
 * With a scale s (Gemma's √C): out = s·table[ids], and each gradient row's sum is multiplied by s.
 */

export interface EmbeddingRefShape {
  vocab: number;
  width: number;
  scale?: number;
}

export function embeddingRef(
  table: Float64Array,
  ids: ArrayLike<number>,
  { vocab, width, scale = 1 }: EmbeddingRefShape,
): Float64Array {
  const out = new Float64Array(ids.length * width);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n] as number;
    if (id < 0 || id >= vocab) continue;
    for (let c = 0; c < width; c++) out[n * width + c] = scale * (table[id * width + c] as number);
  }
  return out;
}

export function embeddingBackwardRef(
  dout: Float64Array,
  ids: ArrayLike<number>,
  { vocab, width, scale = 1 }: EmbeddingRefShape,
  accumulateInto?: Float64Array,
): Float64Array {
  const sums = new Float64Array(vocab * width);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n] as number;
    if (id < 0 || id >= vocab) continue;
    for (let c = 0; c < width; c++) {
      const i = id * width + c;
      sums[i] = (sums[i] as number) + (dout[n * width + c] as number);
    }
  }
  return sums.map((sum, i) => (accumulateInto?.[i] ?? 0) + scale * sum);
}
