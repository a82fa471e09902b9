/**
 * Float64 reference for the token embedding, forward and backward, in plain loops.
 * Forward: out[n, c] = table[ids[n], c], a zero row for an id outside [0, V).
 * Backward: dtable[v, c] = Σ_{n: ids[n] = v} dout[n, c] (+ accumulateInto), out-of-range ids skipped.
 */

export interface EmbeddingRefShape {
  vocab: number;
  width: number;
}

export function embeddingRef(
  table: Float64Array,
  ids: ArrayLike<number>,
  { vocab, width }: EmbeddingRefShape,
): Float64Array {
  const out = new Float64Array(ids.length * width);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n] as number;
    if (id < 0 || id >= vocab) continue;
    for (let c = 0; c < width; c++) out[n * width + c] = table[id * width + c] as number;
  }
  return out;
}

export function embeddingBackwardRef(
  dout: Float64Array,
  ids: ArrayLike<number>,
  { vocab, width }: EmbeddingRefShape,
  accumulateInto?: Float64Array,
): Float64Array {
  const dtable = accumulateInto ? Float64Array.from(accumulateInto) : new Float64Array(vocab * width);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n] as number;
    if (id < 0 || id >= vocab) continue;
    for (let c = 0; c < width; c++) {
      const i = id * width + c;
      dtable[i] = (dtable[i] as number) + (dout[n * width + c] as number);
    }
  }
  return dtable;
}
