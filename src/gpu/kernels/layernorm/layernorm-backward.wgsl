// LayerNorm backward (needs row-segments.wgsl prepended). With the saved mean and rstd,
// xhat = (x - mean) * rstd and g = dy * gamma:
//   dx[r, c] = rstd[r] * (g - mean_c(g) - xhat * mean_c(g * xhat))   (+ dx with ACCUMULATE_DX)
//   partial_gamma[p, c] = sum of dy * xhat,  partial_beta[p, c] = sum of dy,
//   each over the rows p, p + P, p + 2P, ... (P = segments in the grid, params.segments)
// The two row sums share one segment_sum (a vec2). Each partial row has exactly one writer, the
// segment p, so no atomics; sum-rows folds the [min(P, ROWS), C] partials into dgamma and dbeta.
// The row loop's bound depends only on the workgroup, keeping every segment_sum in uniform control flow.
// PARAM_GRADS = false (frozen gamma and beta: every method but full fine-tuning) writes dx only; the two
// partial bindings then hold stand-ins that are never touched.

override ACCUMULATE_DX: bool = false;
override PARAM_GRADS: bool = true;

struct Params {
  rows: u32,
  cols: u32,
  segments: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> partial_gamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> partial_beta: array<f32>;

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
    var mu = 0.0;
    var inv = 0.0;
    var sums = vec2<f32>(0.0);
    if (live) {
      mu = mean[row];
      inv = rstd[row];
      for (var c = lane; c < C; c += LANES) {
        let g = dy[base + c] * gamma[c];
        sums += vec2<f32>(g, g * (x[base + c] - mu) * inv);
      }
    }
    let means = segment_sum(lid, sums, fast) / f32(C);
    if (live) {
      let first_row = first == wg.x * SEGMENTS;
      for (var c = lane; c < C; c += LANES) {
        let i = base + c;
        let grad = dy[i];
        let xhat = (x[i] - mu) * inv;
        var d = inv * (grad * gamma[c] - means.x - xhat * means.y);
        if (ACCUMULATE_DX) {
          d += dx[i];
        }
        dx[i] = d;
        if (PARAM_GRADS) {
          if (first_row) {
            partial_gamma[partial_base + c] = grad * xhat;
            partial_beta[partial_base + c] = grad;
          } else {
            partial_gamma[partial_base + c] += grad * xhat;
            partial_beta[partial_base + c] += grad;
          }
        }
      }
    }
  }
}
