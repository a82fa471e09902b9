// B stored as f32, read as vec4s where its rows allow (VEC_B).

@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;

// Reads `valid` (0..4) contiguous elements of B from flat index `start`; the rest are zero (matmul.wgsl
// applies B's dropout mask).
fn read_b(start: u32, valid: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (VEC_B && valid == 4u) {
    v = B[start >> 2u];
  } else {
    for (var j = 0u; j < valid; j++) {
      let i = start + j;
      v[j] = B[i >> 2u][i & 3u];
    }
  }
  return v;
}
