// DoRA's per-output-column scaling, backward, in one pass over dy [ROWS, COLS]:
//   scaled[i, c] = g[c] * dy[i, c]                 the gradient the low-rank path (and, without
//                                                 dropout, the base path) receives
//   scaledMinusOne[i, c] = (g[c] - 1) * dy[i, c]   with WRITE_MINUS_ONE: the dropped base path's
//   dm[c] (+)= Σ_i dy[i, c] * v[i, c] / norm[c]     the magnitude's gradient (norm is detached)
// with g = magnitude / norm. A workgroup owns 16 columns; its 16 row lanes stride down the rows
// (coalesced along columns) and fold their partial dm sums in workgroup memory, as sum-rows does.

override WRITE_MINUS_ONE: bool = false;
override ACCUMULATE: bool = false;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> magnitude: array<f32>;
@group(0) @binding(4) var<storage, read> norm: array<f32>;
@group(0) @binding(5) var<storage, read_write> scaled: array<f32>;
@group(0) @binding(6) var<storage, read_write> scaledMinusOne: array<f32>;
@group(0) @binding(7) var<storage, read_write> dm: array<f32>;

const COLS_PER_GROUP: u32 = 16u;
const ROW_LANES: u32 = 16u;

var<workgroup> partial: array<f32, 256>; // [ROW_LANES][COLS_PER_GROUP]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let col = wg.x * COLS_PER_GROUP + lid.x;
  var sum = 0.0;
  if (col < params.cols) {
    let g = magnitude[col] / norm[col];
    for (var row = lid.y; row < params.rows; row += ROW_LANES) {
      let i = row * params.cols + col;
      let d = dy[i];
      scaled[i] = g * d;
      if (WRITE_MINUS_ONE) {
        scaledMinusOne[i] = (g - 1.0) * d;
      }
      sum += d * v[i];
    }
  }
  partial[lid.y * COLS_PER_GROUP + lid.x] = sum;
  workgroupBarrier();
  for (var stride = ROW_LANES / 2u; stride > 0u; stride >>= 1u) {
    if (lid.y < stride) {
      partial[lid.y * COLS_PER_GROUP + lid.x] += partial[(lid.y + stride) * COLS_PER_GROUP + lid.x];
    }
    workgroupBarrier();
  }
  if (lid.y == 0u && col < params.cols) {
    var total = partial[lid.x] / norm[col];
    if (ACCUMULATE) {
      total += dm[col];
    }
    dm[col] = total;
  }
}
