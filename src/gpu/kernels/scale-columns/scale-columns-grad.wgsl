// The gradient of a column scale, a column reduction of a product: dscale[c] = sum_r dy[r, c] * x[r, c]
// (+ dscale[c] with ACCUMULATE), over a row-major [ROWS, COLS] pair. Deterministic: a workgroup owns 16
// columns; its 16 row lanes stride down the rows (coalesced along columns), then fold their partial sums
// in workgroup memory in a fixed order.

override ACCUMULATE: bool = false;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dscale: array<f32>;

const COLS_PER_GROUP: u32 = 16u;
const ROW_LANES: u32 = 16u;

var<workgroup> partial: array<f32, 256>; // [ROW_LANES][COLS_PER_GROUP]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let col = wg.x * COLS_PER_GROUP + lid.x;
  var sum = 0.0;
  if (col < params.cols) {
    for (var row = lid.y; row < params.rows; row += ROW_LANES) {
      let i = row * params.cols + col;
      sum += dy[i] * x[i];
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
    var total = partial[lid.x];
    if (ACCUMULATE) {
      total += dscale[col];
    }
    dscale[col] = total;
  }
}
