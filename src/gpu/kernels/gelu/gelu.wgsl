// GELU, tanh approximation (Hendrycks & Gimpel 2016; HF `gelu_new` / `gelu_pytorch_tanh`, GPT-2's MLP):
//   y = 0.5·x·(1 + tanh(u)),   u = √(2/π)·(x + 0.044715·x³)
// computed as y = x·σ(2u), the same function (0.5·(1 + tanh u) = σ(2u)) without tanh's overflow for
// large |u| and without the cancellation in 1 + tanh(u) for negative x.
// BACKWARD, from dy: dx = dy·(σ + x·σ·(1 − σ)·z'),   z = 2u,   z' = 2√(2/π)·(1 + 3·0.044715·x²).
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
const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const CUBIC: f32 = 0.044715;
// Past ±10, σ(z) is 1 to f32 precision, or below 1e-38 (under the normal range), so x is clamped
// there before the cubic: x³ and exp stay finite for every finite input.
const SATURATION: f32 = 10.0;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let v = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (v >= params.vec_count) {
    return;
  }
  let xv = x[v];
  let xc = clamp(xv, vec4<f32>(-SATURATION), vec4<f32>(SATURATION));
  let z = 2.0 * SQRT_2_OVER_PI * (xc + CUBIC * xc * xc * xc);
  // σ(z) and 1 − σ(z) from exp(−|z|) ≤ 1, which cannot overflow.
  let e = exp(-abs(z));
  let r = 1.0 / (1.0 + e);
  let positive = z >= vec4<f32>(0.0);
  let below = xv < vec4<f32>(-SATURATION);
  let s = select(select(e * r, r, positive), vec4<f32>(0.0), below);
  let one_minus_s = select(r, e * r, positive);
  var value: vec4<f32>;
  if (BACKWARD) {
    let dz = 2.0 * SQRT_2_OVER_PI * (1.0 + 3.0 * CUBIC * xc * xc);
    value = dy[v] * (s + xc * s * one_minus_s * dz);
  } else {
    value = xv * s;
  }
  if (4u * v + 4u > params.count) {
    let keep = vec4<u32>(4u * v) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.count);
    value = select(out[v], value, keep);
  }
  out[v] = value;
}
