// Attention forward, FlashAttention style (Dao et al. 2022; the loop order of FlashAttention-2):
//   out = softmax(q·kᵀ·scale + mask)·v   and   lse = log Σ_visible exp(q·kᵀ·scale), per query row.
// Needs attention-common.wgsl prepended.
//
// One thread per query row, ROWS of them per workgroup, grid [⌈T/ROWS⌉, NH, B]. A thread keeps its
// query row (pre-scaled by scale·log2 e) and its output row in registers and walks the keys in tiles of
// KEYS with an online softmax: a running max m and sum l, the output rescaled by exp2(m_old − m_new)
// whenever the max grows, so the T x S score matrix is never stored. Each tile of K, then of V, is loaded
// once into workgroup memory by all the threads together (coalesced) and read by every thread at the same
// address (a broadcast), so a thread's softmax needs no other thread: 4 barriers per tile. A query with
// no visible key writes out = 0, lse = 0. With DROPOUT, the row sum l takes the undropped probabilities
// and the output the dropped ones, so out = (P ∘ Z)·V.

@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;
@group(0) @binding(7) var<uniform> rng: vec4<u32>;

const KEYS: u32 = 32u / TILE_DIVISOR;

// [key][vec]: a tile of K, later of V; 16 KiB at the largest head dim. Padding columns are never
// written, so they keep the zeros workgroup memory starts with.
var<workgroup> kvTile: array<vec4<f32>, KEYS * MAX_VECS>;

fn load_tile(from_v: bool, batch: u32, kvHead: u32, k0: u32, lid: u32) {
  for (var e = lid; e < KEYS * HEAD_DIM; e += ROWS) {
    let row = e / HEAD_DIM;
    let d = e % HEAD_DIM;
    let key = k0 + row;
    var x = 0.0;
    if (key < params.S) {
      let i = kv_row(batch, key, kvHead) + d;
      if (from_v) {
        x = v[i];
      } else {
        x = k[i];
      }
    }
    kvTile[row * VECS + d / 4u][d % 4u] = x;
  }
}

@compute @workgroup_size(ROWS)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let batch = wg.z;
  let head = wg.y;
  let kvHead = head / params.group;
  let q0 = wg.x * ROWS;
  let query = q0 + lid;
  let queryValid = query < params.T;
  let base = q_row(batch, query, head);

  var qReg: array<vec4<f32>, MAX_VECS>;
  if (queryValid) {
    for (var d = 0u; d < HEAD_DIM; d++) {
      qReg[d / 4u][d % 4u] = q[base + d] * params.scoreScale;
    }
  }

  var m = NEG_BIG;
  var l = 0.0;
  var acc: array<vec4<f32>, MAX_VECS>;
  let keyEnd = keys_seen_by(min(q0 + ROWS, params.T));
  for (var k0 = first_key_seen_by(q0); k0 < keyEnd; k0 += KEYS) {
    load_tile(false, batch, kvHead, k0, lid);
    workgroupBarrier();
    // Scores of the tile's keys in log2 units; bit j of `visible` says key k0 + j counts.
    var s: array<f32, KEYS>;
    var visible = 0u;
    var tileMax = NEG_BIG;
    for (var j = 0u; j < KEYS; j++) {
      var dot4 = vec4<f32>(0.0);
      for (var i = 0u; i < VECS; i++) {
        dot4 += qReg[i] * kvTile[j * VECS + i];
      }
      s[j] = score(horizontal_sum(dot4));
      let key = k0 + j;
      if (queryValid && key_valid(batch, key) != 0u && causal_ok(query, key)) {
        visible |= 1u << j;
        tileMax = max(tileMax, s[j]);
      }
    }
    // Every thread must be done with K before V overwrites the tile.
    workgroupBarrier();
    load_tile(true, batch, kvHead, k0, lid);
    let mNew = max(m, tileMax);
    // 1 while the row has seen nothing visible (both NEG_BIG); 0 once a real max replaces NEG_BIG.
    let alpha = exp2(m - mNew);
    m = mNew;
    l *= alpha;
    for (var i = 0u; i < VECS; i++) {
      acc[i] *= alpha;
    }
    workgroupBarrier();
    for (var j = 0u; j < KEYS; j++) {
      if ((visible & (1u << j)) == 0u) {
        continue;
      }
      let p = exp2(s[j] - mNew);
      l += p;
      var pv = p;
      if (DROPOUT) {
        pv *= dropout_factor(batch, head, query, k0 + j);
      }
      for (var i = 0u; i < VECS; i++) {
        acc[i] += pv * kvTile[j * VECS + i];
      }
    }
    // The next K tile overwrites V.
    workgroupBarrier();
  }

  if (queryValid) {
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var d = 0u; d < HEAD_DIM; d++) {
      out[base + d] = acc[d / 4u][d % 4u] * inv;
    }
    lse[stats_index(batch, head, query)] = select(0.0, (m + log2(l)) * LN2, l > 0.0);
  }
}
