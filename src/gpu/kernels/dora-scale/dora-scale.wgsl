// DoRA's per-output-column scaling, forward: g[c] = magnitude[c] / norm[c] (norm detached), and
//   y[i, c] = (y[i, c] with ACCUMULATE) + (bias[c] with HAS_BIAS) + (g[c] - (1 with SUBTRACT_ONE)) * v[i, c]
// over a row-major [ROWS, COLS] v and y. Element-wise on a 1-D grid folded by grid1d.

override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override SUBTRACT_ONE: bool = false;

struct Params {
  count: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> magnitude: array<f32>;
@group(0) @binding(3) var<storage, read> norm: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (i >= params.count) {
    return;
  }
  let c = i % params.cols;
  var factor = magnitude[c] / norm[c];
  if (SUBTRACT_ONE) {
    factor -= 1.0;
  }
  var value = factor * v[i];
  if (HAS_BIAS) {
    value += bias[c];
  }
  if (ACCUMULATE) {
    value += y[i];
  }
  y[i] = value;
}
