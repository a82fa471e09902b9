// Residual add: out = a + b, or with ACCUMULATE out += b (a unread). Element-wise over flat arrays.
// One thread per vec4 (the arena pads every buffer to 16 bytes); the last, partial vec4 leaves the
// padding of out untouched.

override ACCUMULATE: bool = false;

struct Params {
  count: u32,
  vec_count: u32, // ceil(count / 4)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>; // unread with ACCUMULATE
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let v = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (v >= params.vec_count) {
    return;
  }
  let partial = 4u * v + 4u > params.count;
  var old = vec4<f32>(0.0);
  if (ACCUMULATE || partial) {
    old = out[v];
  }
  var value: vec4<f32>;
  if (ACCUMULATE) {
    value = old + b[v];
  } else {
    value = a[v] + b[v];
  }
  if (partial) {
    let keep = vec4<u32>(4u * v) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.count);
    value = select(old, value, keep);
  }
  out[v] = value;
}
