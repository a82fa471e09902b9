// GELU, tanh approximation (HF `gelu_new` / `gelu_pytorch_tanh`), value and slope, for gelu.wgsl and the
// GeGLU gate in swiglu.wgsl, which prepend this file:
//   y = 0.5·x·(1 + tanh(u)),   u = √(2/π)·(x + 0.044715·x³)
// computed as y = x·σ(2u), the same function (0.5·(1 + tanh u) = σ(2u)) without tanh's overflow for
// large |u| and without the cancellation in 1 + tanh(u) for negative x; the slope is
//   σ + x·σ·(1 − σ)·z',   z = 2u,   z' = 2√(2/π)·(1 + 3·0.044715·x²).

const GELU_SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_CUBIC: f32 = 0.044715;
// Past ±10, σ(z) is 1 to f32 precision, or below 1e-38 (under the normal range), so x is clamped
// there before the cubic: x³ and exp stay finite for every finite input.
const GELU_SATURATION: f32 = 10.0;

struct GeluTanh {
  value: vec4<f32>, // gelu(x)
  slope: vec4<f32>, // gelu'(x)
}

fn gelu_tanh(x: vec4<f32>) -> GeluTanh {
  let xc = clamp(x, vec4<f32>(-GELU_SATURATION), vec4<f32>(GELU_SATURATION));
  let z = 2.0 * GELU_SQRT_2_OVER_PI * (xc + GELU_CUBIC * xc * xc * xc);
  // σ(z) and 1 − σ(z) from exp(−|z|) ≤ 1, which cannot overflow.
  let e = exp(-abs(z));
  let r = 1.0 / (1.0 + e);
  let positive = z >= vec4<f32>(0.0);
  let s = select(select(e * r, r, positive), vec4<f32>(0.0), x < vec4<f32>(-GELU_SATURATION));
  let one_minus_s = select(r, e * r, positive);
  let dz = 2.0 * GELU_SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * xc * xc);
  return GeluTanh(x * s, s + xc * s * one_minus_s * dz);
}
