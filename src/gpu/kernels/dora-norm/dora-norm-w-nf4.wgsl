// W stored as 4-bit NormalFloat (a frozen base weight quantized as QLoRA does; nf4-levels.wgsl, prepended),
// widened to f32 as it is read.

@group(0) @binding(1) var<storage, read> W: array<u32>;

fn w_at(i: u32) -> f32 {
  return nf4_value(W[nf4_code_word(i)], i, W[nf4_scale_word(i)]);
}
