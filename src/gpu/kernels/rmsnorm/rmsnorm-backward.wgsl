// RMSNorm backward (needs row-segments.wgsl prepended). With g = dy * weight and the saved rrms:
//   dx[r, c] = rrms[r] * (g[r, c] - x[r, c] * rrms[r]^2 * mean_c(g * x)[r])   (+ dx with ACCUMULATE_DX)
//   partial[p, c] = sum over the rows p, p + P, p + 2P, ... of dy * x * rrms
// Segment p of the grid (P = segments in all, params.segments) walks its rows in that order, so each
// partial row has exactly one writer and needs no atomics; sum-rows folds the [min(P, ROWS), C]
// partials into dweight afterwards. The row loop's bound depends only on the workgroup, keeping every
// segment_sum in uniform control flow; segments past the last row pass zeros.
// PARAM_GRADS = false (a frozen weight: every method but full fine-tuning) writes dx only; partial is
// then a placeholder that is never touched.

override ACCUMULATE_DX: bool = false;
override PARAM_GRADS: bool = true;
// Gemma's (1 + weight); d(1 + w)/dw = 1, so dweight is unchanged.
override WEIGHT_OFFSET: f32 = 0.0;

struct Params {
  rows: u32,
  cols: u32,
  segments: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> rrms: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let fast = subgroup_layout(lid);
  let segment = wg.x * SEGMENTS + lid / LANES;
  let C = params.cols;
  let partial_base = segment * C;

  for (var first = wg.x * SEGMENTS; first < params.rows; first += params.segments) {
    let row = first + lid / LANES;
    let live = row < params.rows;
    let base = row * C;
    var inv = 0.0;
    var gx = 0.0;
    if (live) {
      inv = rrms[row];
      for (var c = lane; c < C; c += LANES) {
        gx += dy[base + c] * (weight[c] + WEIGHT_OFFSET) * x[base + c];
      }
    }
    let correction = inv * inv * segment_sum(lid, vec2<f32>(gx, 0.0), fast).x / f32(C);
    if (live) {
      let first_row = first == wg.x * SEGMENTS;
      for (var c = lane; c < C; c += LANES) {
        let i = base + c;
        let g = dy[i];
        var d = inv * (g * (weight[c] + WEIGHT_OFFSET) - x[i] * correction);
        if (ACCUMULATE_DX) {
          d += dx[i];
        }
        dx[i] = d;
        if (PARAM_GRADS) {
          let contribution = g * x[i] * inv;
          if (first_row) {
            partial[partial_base + c] = contribution;
          } else {
            partial[partial_base + c] += contribution;
          }
        }
      }
    }
  }
}
