// LayerNorm forward (needs row-segments.wgsl prepended), as torch.nn.LayerNorm computes it in f32:
//   y[r, c] = (x[r, c] - mean[r]) * rstd[r] * gamma[c] + beta[c],   rstd[r] = inverseSqrt(var[r] + eps)
// with the biased variance. x, y: [ROWS, C]; gamma, beta: [C]; mean, rstd: [ROWS], saved for backward.
// Two-pass statistics: the mean first, then mean((x - mean)^2). The one-pass E[x^2] - E[x]^2 loses every
// digit of the variance once |mean| >> std in f32 (activations offset by 100s are common); the extra pass
// re-reads a row that is still in cache.

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let fast = subgroup_layout(lid);
  let row = (wg.y * groups.x + wg.x) * SEGMENTS + lid / LANES;
  let live = row < params.rows;
  let C = params.cols;
  let base = row * C;

  var sum = 0.0;
  if (live) {
    for (var c = lane; c < C; c += LANES) {
      sum += x[base + c];
    }
  }
  let mu = segment_sum(lid, vec2<f32>(sum, 0.0), fast).x / f32(C);
  var squares = 0.0;
  if (live) {
    for (var c = lane; c < C; c += LANES) {
      let d = x[base + c] - mu;
      squares += d * d;
    }
  }
  let inv = inverseSqrt(segment_sum(lid, vec2<f32>(squares, 0.0), fast).x / f32(C) + params.eps);
  if (!live) {
    return;
  }
  if (lane == 0u) {
    mean[row] = mu;
    rstd[row] = inv;
  }
  for (var c = lane; c < C; c += LANES) {
    y[base + c] = (x[base + c] - mu) * inv * gamma[c] + beta[c];
  }
}
