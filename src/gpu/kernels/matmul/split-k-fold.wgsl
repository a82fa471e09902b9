// Split-K's second pass: out[i] = Σ_s partial[s·count + i] over the S partial products the matmul wrote
// (+ out[i] with ACCUMULATE). One thread per element, reading S values a stride of `count` apart, so each
// slice is read coalesced; the sum runs in a fixed order, so the result is deterministic.

override ACCUMULATE: bool = false;

struct Params {
  count: u32,
  splits: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (i >= params.count) {
    return;
  }
  var sum = 0.0;
  for (var s = 0u; s < params.splits; s++) {
    sum += partial[s * params.count + i];
  }
  if (ACCUMULATE) {
    sum += out[i];
  }
  out[i] = sum;
}
