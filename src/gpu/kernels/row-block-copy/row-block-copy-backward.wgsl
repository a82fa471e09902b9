// The gradient of the block written by row-block-copy.wgsl: the sum, over the B sequences, of the
// gradient rows it was written to:
//   dblock[p, c] = Σ_b src[b·T + p, c]
// One thread per block element, adding the sequences in order b = 0, 1, ..., so the result is the same
// on every run (no atomics). Consecutive threads read consecutive addresses of each sequence's rows.

struct Params {
  batches: u32,     // B
  block_size: u32,  // P·C
  row_stride: u32,  // T·C
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dblock: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (r >= params.block_size) {
    return;
  }
  var sum = 0.0;
  for (var b = 0u; b < params.batches; b++) {
    sum += src[b * params.row_stride + r];
  }
  dblock[r] = sum;
}
