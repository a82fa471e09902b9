// The first attention backward kernel (FlashAttention-2, Dao 2023, Algorithm 2 line 4): per query row,
//   stats[b, h, t] = (lse·log2 e,  Δ = Σ_d dOut·out)
// Δ is the row's Σ_s P·dP, the softmax Jacobian term. lse and Δ travel as one [B, NH, T, 2] buffer so the
// dK/dV kernel stays within the 8 storage buffers every WebGPU device allows.
//
// Rows are the B·T·NH rows of out and dOut, [B, T, NH] order, D contiguous floats each. A workgroup of
// 16 x 16 threads takes 16 rows; the 16 lanes of a row read it coalesced and fold in workgroup memory.

struct Params {
  rows: u32,
  T: u32,
  NH: u32,
  headDim: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dOut: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;

const LANES: u32 = 16u;
const LOG2E: f32 = 1.4426950408889634;

var<workgroup> partial: array<f32, 256>; // [row][lane]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = (wg.y * groups.x + wg.x) * 16u + lid.y;
  let lane = lid.x;
  var sum = 0.0;
  if (row < params.rows) {
    let base = row * params.headDim;
    for (var d = lane; d < params.headDim; d += LANES) {
      sum += dOut[base + d] * out[base + d];
    }
  }
  partial[lid.y * LANES + lane] = sum;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      partial[lid.y * LANES + lane] += partial[lid.y * LANES + lane + stride];
    }
    workgroupBarrier();
  }
  if (lane == 0u && row < params.rows) {
    let head = row % params.NH;
    let token = row / params.NH;
    let index = ((token / params.T) * params.NH + head) * params.T + token % params.T;
    stats[2u * index] = lse[index] * LOG2E;
    stats[2u * index + 1u] = partial[lid.y * LANES];
  }
}
