// Inverted dropout: y[i] = keep(i) ? x[i] * scale : 0, with scale = 1 / (1 - p).
// The backward pass is the same kernel applied to dy with the same (seed, step, stream).
// Needs dropout-hash.wgsl prepended.

struct Params {
  count: u32,
  stream: u32,
  threshold: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> rng: vec4<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (i >= params.count) {
    return;
  }
  let keep = dropout_keep(rng, params.stream, i, params.threshold);
  y[i] = select(0.0, x[i] * params.scale, keep);
}
