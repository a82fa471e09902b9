// Attention forward, FlashAttention style (Dao et al. 2022; the loop order of FlashAttention-2):
//   out = softmax(q·kᵀ·scale + mask)·v   and   lse = log Σ_visible exp(q·kᵀ·scale), per query row.
// Needs attention-common.wgsl prepended.
//
// One workgroup per (batch, head, block of BLOCK queries), grid [⌈T/BLOCK⌉, NH, B]. It walks the key
// blocks with an online softmax: a running row max m and sum l, the output rescaled by exp2(m_old − m_new)
// whenever the max grows, so the T x S score matrix is never stored. Thread (row, lane) keeps its share of
// the query row (pre-scaled by scale·log2 e) and of the output row in registers; K and V chunks pass
// through workgroup memory. A query with no visible key writes out = 0, lse = 0. With DROPOUT, the row sum
// l takes the undropped probabilities and the output the dropped ones, so out = (P ∘ Z)·V.

@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;
@group(0) @binding(7) var<uniform> rng: vec4<u32>;

var<workgroup> qTile: array<f32, TILE>; // [query][column of the chunk]
var<workgroup> kvTile: array<f32, TILE>; // [key][column]: a chunk of K, later of V
var<workgroup> scores: array<f32, 256>; // [query][key], hidden ones at NEG_BIG: for the row max
var<workgroup> probs: array<f32, 256>; // [query][key]
var<workgroup> dropFactors: array<f32, 256>; // [query][key]: dropout_factor, with DROPOUT only
var<workgroup> keyOk: array<u32, BLOCK>;

fn load_kv_chunk(from_v: bool, batch: u32, kvHead: u32, k0: u32, d0: u32, row: u32, lane: u32) {
  let key = k0 + row;
  for (var j = 0u; j < 2u; j++) {
    let col = lane + j * BLOCK;
    let d = d0 + col;
    var x = 0.0;
    if (key < params.S && d < HEAD_DIM) {
      let i = kv_row(batch, key, kvHead) + d;
      if (from_v) {
        x = v[i];
      } else {
        x = k[i];
      }
    }
    kvTile[row * CHUNK_STRIDE + col] = x;
  }
}

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
  if (queryValid) {
    let base = q_row(batch, query, head);
    for (var slot = 0u; slot < SLOTS; slot++) {
      let d = slot * BLOCK + lane;
      if (d < HEAD_DIM) {
        qReg[slot] = q[base + d] * params.scaleLog2e;
      }
    }
  }

  var m = NEG_BIG;
  var l = 0.0;
  var acc: array<f32, SLOTS>;
  let keyEnd = key_end(q0);
  for (var k0 = 0u; k0 < keyEnd; k0 += BLOCK) {
    if (row == 0u) {
      keyOk[lane] = key_valid(batch, k0 + lane);
    }
    // Score of (query, key k0 + lane), in log2 units.
    var s = 0.0;
    for (var d0 = 0u; d0 < HEAD_DIM; d0 += CHUNK) {
      let slot = d0 / BLOCK;
      qTile[row * CHUNK_STRIDE + lane] = qReg[slot];
      qTile[row * CHUNK_STRIDE + lane + BLOCK] = qReg[slot + 1u];
      load_kv_chunk(false, batch, kvHead, k0, d0, row, lane);
      workgroupBarrier();
      let width = min(CHUNK, HEAD_DIM - d0);
      for (var dd = 0u; dd < width; dd++) {
        s += qTile[row * CHUNK_STRIDE + dd] * kvTile[lane * CHUNK_STRIDE + dd];
      }
      workgroupBarrier();
    }

    let visible = queryValid && keyOk[lane] != 0u && causal_ok(query, k0 + lane);
    scores[row * BLOCK + lane] = select(NEG_BIG, s, visible);
    workgroupBarrier();
    var blockMax = NEG_BIG;
    for (var j = 0u; j < BLOCK; j++) {
      blockMax = max(blockMax, scores[row * BLOCK + j]);
    }
    let mNew = max(m, blockMax);
    // 1 while the row has seen nothing visible (both NEG_BIG); 0 once a real max replaces NEG_BIG.
    let alpha = exp2(m - mNew);
    m = mNew;
    probs[row * BLOCK + lane] = select(0.0, exp2(s - mNew), visible);
    if (DROPOUT) {
      dropFactors[row * BLOCK + lane] = dropout_factor(batch, head, query, k0 + lane);
    }
    l *= alpha;
    for (var slot = 0u; slot < SLOTS; slot++) {
      acc[slot] *= alpha;
    }

    for (var d0 = 0u; d0 < HEAD_DIM; d0 += CHUNK) {
      load_kv_chunk(true, batch, kvHead, k0, d0, row, lane);
      workgroupBarrier();
      if (d0 == 0u) {
        for (var j = 0u; j < BLOCK; j++) {
          l += probs[row * BLOCK + j];
        }
      }
      let slot = d0 / BLOCK;
      var a0 = acc[slot];
      var a1 = acc[slot + 1u];
      for (var j = 0u; j < BLOCK; j++) {
        var p = probs[row * BLOCK + j];
        if (DROPOUT) {
          p *= dropFactors[row * BLOCK + j];
        }
        a0 += p * kvTile[j * CHUNK_STRIDE + lane];
        a1 += p * kvTile[j * CHUNK_STRIDE + lane + BLOCK];
      }
      acc[slot] = a0;
      acc[slot + 1u] = a1;
      workgroupBarrier();
    }
  }

  if (queryValid) {
    let base = q_row(batch, query, head);
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var slot = 0u; slot < SLOTS; slot++) {
      let d = slot * BLOCK + lane;
      if (d < HEAD_DIM) {
        out[base + d] = acc[slot] * inv;
      }
    }
    if (lane == 0u) {
      lse[stats_index(batch, head, query)] = select(0.0, (m + log2(l)) * LN2, l > 0.0);
    }
  }
}
