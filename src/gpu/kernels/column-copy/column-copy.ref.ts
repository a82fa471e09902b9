/**
 * Float64 reference for block copies (a block of columns of every row, or of a range of rows); the
 * backward of a split is the join, and vice versa.
 */

export interface ColumnBlock {
  rows: number;
  width: number;
  srcStride: number;
  srcOffset: number;
  dstStride: number;
  dstOffset: number;
  /** The block's first row in src and in dst (0 by default). */
  srcRow?: number;
  dstRow?: number;
}

export function columnCopyRef(
  src: Float64Array,
  dst: Float64Array,
  b: ColumnBlock,
  accumulate = false,
): Float64Array {
  const out = Float64Array.from(dst);
  for (let n = 0; n < b.rows; n++) {
    for (let j = 0; j < b.width; j++) {
      const to = ((b.dstRow ?? 0) + n) * b.dstStride + b.dstOffset + j;
      const from = ((b.srcRow ?? 0) + n) * b.srcStride + b.srcOffset + j;
      out[to] = (accumulate ? (out[to] as number) : 0) + (src[from] as number);
    }
  }
  return out;
}
