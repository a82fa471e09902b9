// GELU, tanh approximation (Hendrycks & Gimpel 2016; HF `gelu_new` / `gelu_pytorch_tanh`, GPT-2's MLP):
// y = gelu_tanh(x), and BACKWARD, from dy: dx = dy·gelu_tanh'(x), both from gelu-tanh.wgsl (prepended).
// One thread per vec4 (the arena pads every buffer to 16 bytes); the last, partial vec4 leaves the
// padding of the output untouched.

override BACKWARD: bool = false;

struct Params {
  count: u32,
  vec_count: u32, // ceil(count / 4)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>; // BACKWARD only
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>; // y, or dx with BACKWARD

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let v = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (v >= params.vec_count) {
    return;
  }
  let g = gelu_tanh(x[v]);
  var value: vec4<f32>;
  if (BACKWARD) {
    value = dy[v] * g.slope;
  } else {
    value = g.value;
  }
  if (4u * v + 4u > params.count) {
    let keep = vec4<u32>(4u * v) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.count);
    value = select(out[v], value, keep);
  }
  out[v] = value;
}
