// Soft-capping (Gemma 2's attention scores and final logits): cap·tanh(x / cap), and tanh itself from
// exp(−2|x|) ≤ 1, finite for every finite x (a sinh/cosh form overflows past |x| ≈ 44). Prepended to
// cross-entropy.wgsl and the attention kernels.

fn stable_tanh(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
