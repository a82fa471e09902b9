// Element-wise activations for bottleneck adapters (Houlsby et al. 2019), forward and backward:
//   KIND 0, relu:  y = max(x, 0)                 dx = dy·[x > 0]           (PyTorch: 0 at x = 0)
//   KIND 1, silu:  y = x·σ(x)                    dx = dy·(σ + x·σ·(1 − σ))
//   KIND 2, gelu:  y = x·Φ(x), Φ(x) = ½·erfc(−x/√2), the exact (erf) GELU of nn.GELU() / HF "gelu"
//                                                dx = dy·(Φ(x) + x·φ(x)),  φ(x) = exp(−x²/2)/√(2π)
//   KIND 3, tanh:  y = tanh(x)                   dx = dy·(1 − tanh²(x))    (prefix tuning's MLP)
//                  from e = exp(−2|x|) ≤ 1: tanh|x| = (1 − e)/(1 + e), so no overflow at any finite x.
// (GPT-2's tanh GELU, HF "gelu_new", is kernels/gelu.) WGSL has no erf: erfc comes from the Chebyshev
// fit of Numerical Recipes' erfcc (relative error below 1.2e-7 for every z ≥ 0), taken at |x|/√2 so
// that both tails keep their relative accuracy: Φ = ½·erfc(|x|/√2) for x < 0, 1 − that for x ≥ 0.
// One thread per vec4 (the arena pads every buffer to 16 bytes); the last, partial vec4 leaves the
// padding of the output untouched.

override KIND: u32 = 0u;
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
const INV_SQRT_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;
// Past ±10, Φ is 1 to f32 precision, or below 1e-23 where x·Φ(x) is under 1e-22: x is clamped there
// so that x² and exp stay finite for every finite input.
const SATURATION: f32 = 10.0;

// erfc(z) for z ≥ 0, Numerical Recipes 6.2 (erfcc); exp's argument stays above −60 for z ≤ 10/√2.
fn erfc_nonnegative(z: vec4<f32>) -> vec4<f32> {
  let t = 1.0 / (1.0 + 0.5 * z);
  var p = vec4<f32>(0.17087277);
  p = -0.82215223 + t * p;
  p = 1.48851587 + t * p;
  p = -1.13520398 + t * p;
  p = 0.27886807 + t * p;
  p = -0.18628806 + t * p;
  p = 0.09678418 + t * p;
  p = 0.37409196 + t * p;
  p = 1.00002368 + t * p;
  p = -1.26551223 + t * p;
  return t * exp(-z * z + p);
}

// σ(z) and 1 − σ(z) from exp(−|z|) ≤ 1, which cannot overflow (WGSL may assume no infinities).
struct Sigmoid {
  s: vec4<f32>,
  one_minus_s: vec4<f32>,
}

fn sigmoid(z: vec4<f32>) -> Sigmoid {
  let e = exp(-abs(z));
  let r = 1.0 / (1.0 + e);
  let positive = z >= vec4<f32>(0.0);
  return Sigmoid(select(e * r, r, positive), select(r, e * r, positive));
}

fn tanh_stable(z: vec4<f32>) -> vec4<f32> {
  let e = exp(-2.0 * abs(z));
  return sign(z) * (1.0 - e) / (1.0 + e);
}

fn forward_value(xv: vec4<f32>) -> vec4<f32> {
  if (KIND == 3u) {
    return tanh_stable(xv);
  }
  if (KIND == 0u) {
    return max(xv, vec4<f32>(0.0));
  }
  if (KIND == 1u) {
    return xv * sigmoid(xv).s;
  }
  let xc = clamp(xv, vec4<f32>(-SATURATION), vec4<f32>(SATURATION));
  let half_tail = 0.5 * erfc_nonnegative(abs(xc) * INV_SQRT_2);
  let cdf = select(half_tail, 1.0 - half_tail, xc >= vec4<f32>(0.0));
  return select(xv * cdf, vec4<f32>(0.0), xv < vec4<f32>(-SATURATION));
}

fn backward_slope(xv: vec4<f32>) -> vec4<f32> {
  if (KIND == 3u) {
    let y = tanh_stable(xv);
    return 1.0 - y * y;
  }
  if (KIND == 0u) {
    return select(vec4<f32>(0.0), vec4<f32>(1.0), xv > vec4<f32>(0.0));
  }
  if (KIND == 1u) {
    let sig = sigmoid(xv);
    return sig.s + xv * sig.s * sig.one_minus_s;
  }
  let xc = clamp(xv, vec4<f32>(-SATURATION), vec4<f32>(SATURATION));
  let half_tail = 0.5 * erfc_nonnegative(abs(xc) * INV_SQRT_2);
  let cdf = select(half_tail, 1.0 - half_tail, xc >= vec4<f32>(0.0));
  let pdf = INV_SQRT_2PI * exp(-0.5 * xc * xc);
  return select(cdf + xc * pdf, vec4<f32>(0.0), xv < vec4<f32>(-SATURATION));
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let v = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (v >= params.vec_count) {
    return;
  }
  var value: vec4<f32>;
  if (BACKWARD) {
    value = dy[v] * backward_slope(x[v]);
  } else {
    value = forward_value(x[v]);
  }
  if (4u * v + 4u > params.count) {
    let keep = vec4<u32>(4u * v) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.count);
    value = select(out[v], value, keep);
  }
  out[v] = value;
}
