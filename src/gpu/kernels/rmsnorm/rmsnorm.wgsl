// RMSNorm forward (needs row-segments.wgsl prepended), as HF LlamaRMSNorm computes it in f32:
//   y[r, c] = x[r, c] * rrms[r] * weight[c],   rrms[r] = inverseSqrt(mean_c x[r, c]^2 + eps)
// x, y: [ROWS, C]; weight: [C]; rrms: [ROWS], saved for the backward pass.
// One segment per row: sum of squares over its lanes, a segment_sum, then a second pass over the row
// (a cache hit for any C that fits L1/L2) writes y.

// Gemma's norms scale by (1 + weight): the offset is added to every weight as it is read.
override WEIGHT_OFFSET: f32 = 0.0;

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> rrms: array<f32>;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let fast = subgroup_layout(lid);
  let row = (wg.y * groups.x + wg.x) * SEGMENTS + lid / LANES;
  let live = row < params.rows;
  let C = params.cols;
  let base = row * C;

  var sum_squares = 0.0;
  if (live) {
    for (var c = lane; c < C; c += LANES) {
      let v = x[base + c];
      sum_squares += v * v;
    }
  }
  let inv = inverseSqrt(segment_sum(lid, vec2<f32>(sum_squares, 0.0), fast).x / f32(C) + params.eps);
  if (!live) {
    return;
  }
  if (lane == 0u) {
    rrms[row] = inv;
  }
  for (var c = lane; c < C; c += LANES) {
    y[base + c] = x[base + c] * inv * (weight[c] + WEIGHT_OFFSET);
  }
}
