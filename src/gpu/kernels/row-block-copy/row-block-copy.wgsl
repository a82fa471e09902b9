// Writes one [P, C] block over the first P rows of every sequence of a [B·T, C] matrix:
//   dst[b·T + p, c] = block[p, c]   for b < B, p < P, c < C; the other rows are left as they are.
// Prompt tuning's forward: the learned virtual-token embeddings replace the placeholder rows at the
// start of each sequence. One thread per written element; the P rows of one sequence are contiguous,
// so consecutive threads write consecutive addresses and read the (cache-resident) block in order.

struct Params {
  batches: u32,     // B
  block_size: u32,  // P·C
  row_stride: u32,  // T·C, the distance between sequences
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> block: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (i >= params.batches * params.block_size) {
    return;
  }
  let b = i / params.block_size;
  let r = i % params.block_size;
  dst[b * params.row_stride + r] = block[r];
}
