// B stored as 4-bit NormalFloat (nf4-levels.wgsl, prepended): a frozen weight quantized as QLoRA does, 4.5
// bits a value, widened to level × absmax as it loads into the tile; products and sums stay f32. Four
// values (VEC_B: start is a multiple of 4) share one word and one scale.

@group(0) @binding(2) var<storage, read> B: array<u32>;

fn b_scalar(i: u32) -> f32 {
  return nf4_value(B[nf4_code_word(i)], i, B[nf4_scale_word(i)]);
}

// Reads `valid` (0..4) contiguous elements of B from flat index `start`; the rest are zero (matmul.wgsl
// applies B's dropout mask).
fn read_b(start: u32, valid: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (VEC_B && valid == 4u) {
    let codes = B[nf4_code_word(start)] >> ((start & 7u) * 4u);
    v = vec4<f32>(
      NF4_LEVELS[codes & 15u],
      NF4_LEVELS[(codes >> 4u) & 15u],
      NF4_LEVELS[(codes >> 8u) & 15u],
      NF4_LEVELS[(codes >> 12u) & 15u],
    ) * bitcast<f32>(B[nf4_scale_word(start)]);
  } else {
    for (var j = 0u; j < valid; j++) {
      v[j] = b_scalar(start + j);
    }
  }
  return v;
}
