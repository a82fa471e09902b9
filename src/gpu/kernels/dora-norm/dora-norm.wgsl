// DoRA's weight norm: norm[o] = ‖W[o, :] + scale * (B * A)[o, :]‖₂ for every output row o, without
// ever writing W + scale*B*A to memory.
//
//   W: [OUT, IN], or with W_IN_OUT [IN, OUT] (GPT-2's Conv1D)   A: [R, IN]   B: [OUT, R]   norm: [OUT]
//
// One workgroup owns 16 output rows and walks IN in slices of 16. For each slice it forms the 16x16
// block of B*A through workgroup memory (R in slices of 16, like a matmul tile), adds W and
// accumulates squares in registers; the 16 k lanes of each row are folded at the end. Lanes run along
// W's contiguous dimension (k for [OUT, IN], o for [IN, OUT]) so W, the one large operand, is read
// coalesced; A and B tiles are always loaded along their own rows.

override W_IN_OUT: bool = false;

struct Params {
  OUT: u32,
  IN: u32,
  R: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Binding 1, W, and its reader w_at come from dora-norm-w-f32.wgsl or dora-norm-w-f16.wgsl (appended).
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read_write> norm: array<f32>;

const TILE: u32 = 16u;

var<workgroup> tileA: array<f32, 256>; // [r][k]
var<workgroup> tileB: array<f32, 256>; // [o][r]
var<workgroup> partial: array<f32, 256>; // [o][k]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let o0 = wg.x * TILE;
  // This thread's place in the [o][k] block.
  let kl = select(lid.x, lid.y, W_IN_OUT);
  let ol = select(lid.y, lid.x, W_IN_OUT);
  let o = o0 + ol;
  var sumsq = 0.0;
  for (var k0 = 0u; k0 < params.IN; k0 += TILE) {
    let k = k0 + kl;
    var low = 0.0;
    for (var r0 = 0u; r0 < params.R; r0 += TILE) {
      let ar = r0 + lid.y;
      let ak = k0 + lid.x;
      var a = 0.0;
      if (ar < params.R && ak < params.IN) {
        a = A[ar * params.IN + ak];
      }
      tileA[lid.y * TILE + lid.x] = a;
      let bo = o0 + lid.y;
      let br = r0 + lid.x;
      var b = 0.0;
      if (bo < params.OUT && br < params.R) {
        b = B[bo * params.R + br];
      }
      tileB[lid.y * TILE + lid.x] = b;
      workgroupBarrier();
      for (var j = 0u; j < TILE; j++) {
        low += tileB[ol * TILE + j] * tileA[j * TILE + kl];
      }
      workgroupBarrier();
    }
    if (o < params.OUT && k < params.IN) {
      var w: f32;
      if (W_IN_OUT) {
        w = w_at(k * params.OUT + o);
      } else {
        w = w_at(o * params.IN + k);
      }
      let v = w + params.scale * low;
      sumsq += v * v;
    }
  }
  partial[ol * TILE + kl] = sumsq;
  workgroupBarrier();
  for (var stride = TILE / 2u; stride > 0u; stride >>= 1u) {
    if (kl < stride) {
      partial[ol * TILE + kl] += partial[ol * TILE + kl + stride];
    }
    workgroupBarrier();
  }
  if (kl == 0u && o < params.OUT) {
    norm[o] = sqrt(partial[ol * TILE]);
  }
}
