// W stored in half precision (a frozen base weight): two values to a u32, low half first, in groups of 4
// (tensor.ts pads it so), widened to f32 as it is read.

@group(0) @binding(1) var<storage, read> W: array<vec2<u32>>;

fn w_at(i: u32) -> f32 {
  return unpack2x16float(W[i >> 2u][(i >> 1u) & 1u])[i & 1u];
}
