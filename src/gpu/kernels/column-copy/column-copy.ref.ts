/** Float64 reference for column-block copies; the backward of a split is the join, and vice versa. */

export interface ColumnBlock {
  rows: number;
  width: number;
  srcStride: number;
  srcOffset: number;
  dstStride: number;
  dstOffset: number;
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
      const to = n * b.dstStride + b.dstOffset + j;
      out[to] = (accumulate ? (out[to] as number) : 0) + (src[n * b.srcStride + b.srcOffset + j] as number);
    }
  }
  return out;
}
