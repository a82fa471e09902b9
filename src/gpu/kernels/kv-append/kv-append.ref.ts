/** Float64 reference for the KV-cache append: the cache with src's rows written at each offset. */

export function kvAppendRef(
  cache: Float64Array,
  src: Float64Array,
  offsets: number[],
  shape: { B: number; T: number; S: number; W: number },
): Float64Array {
  const { B, T, S, W } = shape;
  const out = Float64Array.from(cache);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const position = (offsets[b] as number) + t;
      if (position >= S) continue;
      for (let w = 0; w < W; w++) out[(b * S + position) * W + w] = src[(b * T + t) * W + w] as number;
    }
  }
  return out;
}
