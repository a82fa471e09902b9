// Embedding backward as a deterministic scatter-add: dtable[v, c] = Σ_{n: ids[n] = v} dout[n, c]
// (+ dtable[v, c] with ACCUMULATE).
//
//   rowStart [V + 1] u32   tokens [N] u32   dout [N, C]   dtable [V, C]
//
// WGSL has no float atomics, so rather than scatter from tokens the kernel gathers into rows: the host
// sorts the token positions by id (a stable counting sort, embedding.ts) into a CSR index, where
// tokens[rowStart[v] .. rowStart[v + 1]) are the positions whose id is v, in increasing order. One
// workgroup owns one row v and a block of COLS_PER_GROUP columns and adds its tokens' rows of dout in
// that order, so every sum has a fixed order (bit-identical on every run, and equal to a sequential
// loop over n) and no two workgroups write the same element. Lanes take columns lane, lane + 64, ...
// so each load and store of a warp is one contiguous run. Rows no token uses are written as zero, or
// left alone with ACCUMULATE.

override ACCUMULATE: bool = false;
// The forward's scale (Gemma's √C): each row's summed gradient is multiplied by it once.
override SCALE: f32 = 1.0;

struct Params {
  tokens: u32, // N
  vocab: u32, // V
  width: u32, // C
  columnBlocks: u32, // ceil(C / COLS_PER_GROUP)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rowStart: array<u32>;
@group(0) @binding(2) var<storage, read> tokens: array<u32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> dtable: array<f32>;

const LANES: u32 = 64u;
const COLS_PER_LANE: u32 = 4u;
const COLS_PER_GROUP: u32 = LANES * COLS_PER_LANE;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let g = wg.y * groups.x + wg.x;
  if (g >= params.vocab * params.columnBlocks) {
    return;
  }
  let v = g / params.columnBlocks;
  let c0 = (g - v * params.columnBlocks) * COLS_PER_GROUP + lane;
  let C = params.width;
  // Clamped so a malformed index can never read past `tokens`.
  let first = min(rowStart[v], params.tokens);
  let last = min(rowStart[v + 1u], params.tokens);
  if (ACCUMULATE && first >= last) {
    return;
  }

  var sum = vec4<f32>(0.0);
  for (var k = first; k < last; k++) {
    let n = tokens[k];
    if (n >= params.tokens) {
      continue;
    }
    for (var j = 0u; j < COLS_PER_LANE; j++) {
      let c = c0 + j * LANES;
      if (c < C) {
        sum[j] += dout[n * C + c];
      }
    }
  }
  for (var j = 0u; j < COLS_PER_LANE; j++) {
    let c = c0 + j * LANES;
    if (c < C) {
      let index = v * C + c;
      var value = sum[j] * SCALE;
      if (ACCUMULATE) {
        value += dtable[index];
      }
      dtable[index] = value;
    }
  }
}
