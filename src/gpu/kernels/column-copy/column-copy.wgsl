// Copies a block of rows and columns between row-major matrices:
//   dst[dstRow + n, dstOffset + j] = src[srcRow + n, srcOffset + j]   (or += with ACCUMULATE),
// for n < rows, j < width. Splits GPT-2's fused q|k|v projection into per-head-contiguous q, k and v and
// joins their gradients back (all rows); moves a chunk of rows in and out of the chunked LM head. One
// thread per copied element; consecutive threads touch consecutive columns.

override ACCUMULATE: bool = false;

struct Params {
  rows: u32,
  width: u32,
  srcStride: u32,
  srcOffset: u32,
  dstStride: u32,
  dstOffset: u32,
  srcRow: u32,
  dstRow: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (i >= params.rows * params.width) {
    return;
  }
  let n = i / params.width;
  let j = i % params.width;
  let to = (params.dstRow + n) * params.dstStride + params.dstOffset + j;
  var value = src[(params.srcRow + n) * params.srcStride + params.srcOffset + j];
  if (ACCUMULATE) {
    value += dst[to];
  }
  dst[to] = value;
}
