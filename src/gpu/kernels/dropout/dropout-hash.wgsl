// Counter-based dropout mask, shared by every kernel that drops activations.
// keep(i) depends only on (seed, step, stream, element index i), never on launch order, so a step can be
// replayed and the backward pass recomputes the forward's mask exactly. Mirrored bit-for-bit by
// dropout.ref.ts (`dropoutKeep`). The mixer is Wellons' "lowbias32", a bijection on u32.

fn dropout_mix(x: u32) -> u32 {
  var v = x;
  v ^= v >> 16u;
  v *= 0x7feb352du;
  v ^= v >> 15u;
  v *= 0x846ca68bu;
  v ^= v >> 16u;
  return v;
}

// rng = (seed, step, unused, unused); threshold = round(p * 2^32), clamped to u32.
fn dropout_keep(rng: vec4<u32>, stream: u32, index: u32, threshold: u32) -> bool {
  let key = dropout_mix(rng.x ^ dropout_mix(rng.y ^ dropout_mix(stream + 0x9e3779b9u)));
  return dropout_mix(dropout_mix(index ^ key) + key) >= threshold;
}
