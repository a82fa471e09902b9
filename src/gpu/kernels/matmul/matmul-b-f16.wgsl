// B stored in half precision, two values to a u32 (low half first, as unpack2x16float reads them), so a
// frozen weight takes half the memory and half the bandwidth; products and sums stay f32. Four values
// are one 8-byte vec2<u32> load where B's rows allow (VEC_B); the tensor is padded to whole groups of 4.

@group(0) @binding(2) var<storage, read> B: array<vec2<u32>>;

fn b_scalar(i: u32) -> f32 {
  return unpack2x16float(B[i >> 2u][(i >> 1u) & 1u])[i & 1u];
}

// Reads `valid` (0..4) contiguous elements of B from flat index `start`; the rest are zero (matmul.wgsl
// applies B's dropout mask).
fn read_b(start: u32, valid: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (VEC_B && valid == 4u) {
    let words = B[start >> 2u];
    v = vec4<f32>(unpack2x16float(words.x), unpack2x16float(words.y));
  } else {
    for (var j = 0u; j < valid; j++) {
      v[j] = b_scalar(start + j);
    }
  }
  return v;
}
