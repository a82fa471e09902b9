// Attention backward, dQ (FlashAttention-2, Dao 2023, split as in its Triton kernels so no atomics are
// needed): for each query block, walk the key blocks, recompute
//   P = exp2(q·kᵀ·scale·log2 e − lse·log2 e)   dP = dOut·vᵀ   dS = P ∘ (dP − Δ)
// and accumulate dQ = scale · dS·K. Needs attention-common.wgsl prepended. With DROPOUT the forward used
// P ∘ Z, so dP = Z ∘ (dOut·vᵀ), Z recomputed by dropout_factor.
//
// One workgroup per (batch, head, block of BLOCK queries), grid [⌈T/BLOCK⌉, NH, B]; each dQ element is
// summed by one thread in key order, so the result is deterministic. Thread (row, lane) holds its share
// of the query, dOut and dQ rows for the whole walk and of key row k0 + row for one key block (used twice:
// for the scores, then for dS·K), so every input element is read from global memory once per block pair.

@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read> dOut: array<f32>;
@group(0) @binding(6) var<storage, read> stats: array<f32>; // [B, NH, T, 2]: (lse·log2 e, Δ)
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;
@group(0) @binding(8) var<uniform> rng: vec4<u32>;

var<workgroup> qTile: array<f32, TILE>; // [query][column of the chunk]
var<workgroup> dOutTile: array<f32, TILE>; // [query][column]
var<workgroup> kTile: array<f32, TILE>; // [key][column]
var<workgroup> vTile: array<f32, TILE>; // [key][column]
var<workgroup> dsTile: array<f32, 256>; // [query][key]
var<workgroup> keyOk: array<u32, BLOCK>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wg.z;
  let head = wg.y;
  let kvHead = head / params.group;
  let q0 = wg.x * BLOCK;
  let row = lid.y;
  let lane = lid.x;
  let query = q0 + row;
  let queryValid = query < params.T;

  var qReg: array<f32, SLOTS>;
  var dOutReg: array<f32, SLOTS>;
  var lse2 = 0.0;
  var delta = 0.0;
  if (queryValid) {
    let base = q_row(batch, query, head);
    for (var slot = 0u; slot < SLOTS; slot++) {
      let d = slot * BLOCK + lane;
      if (d < HEAD_DIM) {
        qReg[slot] = q[base + d];
        dOutReg[slot] = dOut[base + d];
      }
    }
    let i = stats_index(batch, head, query);
    lse2 = stats[2u * i];
    delta = stats[2u * i + 1u];
  }

  var acc: array<f32, SLOTS>;
  let keyEnd = key_end(q0);
  for (var k0 = 0u; k0 < keyEnd; k0 += BLOCK) {
    if (row == 0u) {
      keyOk[lane] = key_valid(batch, k0 + lane);
    }
    let keyRow = k0 + row;
    var kReg: array<f32, SLOTS>;
    if (keyRow < params.S) {
      let base = kv_row(batch, keyRow, kvHead);
      for (var slot = 0u; slot < SLOTS; slot++) {
        let d = slot * BLOCK + lane;
        if (d < HEAD_DIM) {
          kReg[slot] = k[base + d];
        }
      }
    }

    // Score and dP of (query, key k0 + lane).
    var s = 0.0;
    var dp = 0.0;
    for (var d0 = 0u; d0 < HEAD_DIM; d0 += CHUNK) {
      let slot = d0 / BLOCK;
      let at = row * CHUNK_STRIDE + lane;
      qTile[at] = qReg[slot];
      qTile[at + BLOCK] = qReg[slot + 1u];
      dOutTile[at] = dOutReg[slot];
      dOutTile[at + BLOCK] = dOutReg[slot + 1u];
      kTile[at] = kReg[slot];
      kTile[at + BLOCK] = kReg[slot + 1u];
      for (var j = 0u; j < 2u; j++) {
        let d = d0 + lane + j * BLOCK;
        var x = 0.0;
        if (keyRow < params.S && d < HEAD_DIM) {
          x = v[kv_row(batch, keyRow, kvHead) + d];
        }
        vTile[at + j * BLOCK] = x;
      }
      workgroupBarrier();
      let width = min(CHUNK, HEAD_DIM - d0);
      for (var dd = 0u; dd < width; dd++) {
        s += qTile[row * CHUNK_STRIDE + dd] * kTile[lane * CHUNK_STRIDE + dd];
        dp += dOutTile[row * CHUNK_STRIDE + dd] * vTile[lane * CHUNK_STRIDE + dd];
      }
      workgroupBarrier();
    }

    let visible = queryValid && keyOk[lane] != 0u && causal_ok(query, k0 + lane);
    let p = select(0.0, exp2(s * params.scaleLog2e - lse2), visible);
    let z = dropout_factor(batch, head, query, k0 + lane);
    dsTile[row * BLOCK + lane] = p * (dp * z - delta);

    for (var d0 = 0u; d0 < HEAD_DIM; d0 += CHUNK) {
      let slot = d0 / BLOCK;
      kTile[row * CHUNK_STRIDE + lane] = kReg[slot];
      kTile[row * CHUNK_STRIDE + lane + BLOCK] = kReg[slot + 1u];
      workgroupBarrier();
      var a0 = acc[slot];
      var a1 = acc[slot + 1u];
      for (var j = 0u; j < BLOCK; j++) {
        let ds = dsTile[row * BLOCK + j];
        a0 += ds * kTile[j * CHUNK_STRIDE + lane];
        a1 += ds * kTile[j * CHUNK_STRIDE + lane + BLOCK];
      }
      acc[slot] = a0;
      acc[slot + 1u] = a1;
      workgroupBarrier();
    }
  }

  if (queryValid) {
    let base = q_row(batch, query, head);
    for (var slot = 0u; slot < SLOTS; slot++) {
      let d = slot * BLOCK + lane;
      if (d < HEAD_DIM) {
        dq[base + d] = acc[slot] * params.scale;
      }
    }
  }
}
