// Appends new keys or values to a KV cache: cache[b, offsets[b] + t, :] = src[b, t, :], for t < T,
// skipping rows past the cache's end. `offsets` is rewritten before each decode step, so one
// recorded step serves every position. One thread per element; reads and writes are contiguous.

struct Params {
  B: u32,
  T: u32,
  S: u32,
  W: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> cache: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (i >= params.B * params.T * params.W) {
    return;
  }
  let w = i % params.W;
  let row = i / params.W;
  let t = row % params.T;
  let b = row / params.T;
  let position = offsets[b] + t;
  if (position < params.S) {
    cache[(b * params.S + position) * params.W + w] = src[i];
  }
}
