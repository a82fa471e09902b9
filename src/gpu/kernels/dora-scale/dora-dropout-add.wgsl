// out[i] += keep(i) ? t[i] * scale : 0: adds a dropout-masked term into a gradient that already holds
// others (DoRA's dx with dropout). The mask is the forward's, from dropout-hash.wgsl (prepended), keyed
// by (seed, step, stream, i), so it is the mask that dropped x[i].

struct Params {
  count: u32,
  stream: u32,
  threshold: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> rng: vec4<u32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (i >= params.count) {
    return;
  }
  if (dropout_keep(rng, params.stream, i, params.threshold)) {
    out[i] += t[i] * params.scale;
  }
}
