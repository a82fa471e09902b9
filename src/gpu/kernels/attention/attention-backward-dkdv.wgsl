// Attention backward, dK and dV (FlashAttention-2, Dao 2023, Algorithm 2, with the GQA sum): for each key,
// walk every query head that shares its key/value head and every query that can see it, recompute P and
// dS as the dQ kernel does, and accumulate
//   dV = Pᵀ·dOut      dK = scale · dSᵀ·Q
// Needs attention-common.wgsl prepended. With DROPOUT, dV = (P ∘ Z)ᵀ·dOut and dP = Z ∘ (dOut·vᵀ), Z
// recomputed by dropout_factor exactly as the forward drew it.
//
// One thread per key row, ROWS per workgroup, grid [⌈S/ROWS⌉, KVH, B]. A thread keeps its key row
// (pre-scaled by scale·log2 e), value row and both gradient rows in registers and walks the queries in
// tiles of QUERIES: a Q and a dOut tile are loaded together (coalesced) into workgroup memory and read by
// every thread at the same address, 2 barriers per tile; each query's (lse, Δ) is one broadcast read.
// The sum over the NH/KVH query heads and all queries runs in one thread per element, in a fixed order:
// deterministic, no atomics.

@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read> dOut: array<f32>;
@group(0) @binding(6) var<storage, read> stats: array<f32>; // [B, NH, T, 2]: (lse·log2 e, Δ)
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;
@group(0) @binding(9) var<uniform> rng: vec4<u32>;

const QUERIES: u32 = 16u / TILE_DIVISOR;

// [query][vec]; 8 KiB each at the largest head dim.
var<workgroup> qTile: array<vec4<f32>, QUERIES * MAX_VECS>;
var<workgroup> dOutTile: array<vec4<f32>, QUERIES * MAX_VECS>;

fn load_tiles(batch: u32, head: u32, i0: u32, lid: u32) {
  for (var e = lid; e < QUERIES * HEAD_DIM; e += ROWS) {
    let row = e / HEAD_DIM;
    let d = e % HEAD_DIM;
    let query = i0 + row;
    var qx = 0.0;
    var dx = 0.0;
    if (query < params.T) {
      let i = q_row(batch, query, head) + d;
      qx = q[i];
      dx = dOut[i];
    }
    qTile[row * VECS + d / 4u][d % 4u] = qx;
    dOutTile[row * VECS + d / 4u][d % 4u] = dx;
  }
}

@compute @workgroup_size(ROWS)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let batch = wg.z;
  let kvHead = wg.y;
  let k0 = wg.x * ROWS;
  let key = k0 + lid;
  let keyOk = key_valid(batch, key) != 0u;
  let base = kv_row(batch, key, kvHead);

  var kReg: array<vec4<f32>, MAX_VECS>;
  var vReg: array<vec4<f32>, MAX_VECS>;
  if (key < params.S) {
    for (var d = 0u; d < HEAD_DIM; d++) {
      kReg[d / 4u][d % 4u] = k[base + d] * params.scoreScale;
      vReg[d / 4u][d % 4u] = v[base + d];
    }
  }

  var dkAcc: array<vec4<f32>, MAX_VECS>;
  var dvAcc: array<vec4<f32>, MAX_VECS>;
  let firstQuery = query_start(k0);
  let queryEnd = query_end(k0 + ROWS - 1u);
  for (var g = 0u; g < params.group; g++) {
    let head = kvHead * params.group + g;
    for (var i0 = firstQuery; i0 < queryEnd; i0 += QUERIES) {
      load_tiles(batch, head, i0, lid);
      workgroupBarrier();
      for (var j = 0u; j < QUERIES; j++) {
        let query = i0 + j;
        if (!(keyOk && query < params.T && causal_ok(query, key))) {
          continue;
        }
        let i = stats_index(batch, head, query);
        let lse2 = stats[2u * i];
        let delta = stats[2u * i + 1u];
        var s = vec4<f32>(0.0);
        var dp = vec4<f32>(0.0);
        for (var c = 0u; c < VECS; c++) {
          s += kReg[c] * qTile[j * VECS + c];
          dp += vReg[c] * dOutTile[j * VECS + c];
        }
        let raw = horizontal_sum(s);
        let p = exp2(score(raw) - lse2);
        let z = dropout_factor(batch, head, query, key);
        let pz = p * z;
        let ds = p * (horizontal_sum(dp) * z - delta) * score_slope(raw);
        for (var c = 0u; c < VECS; c++) {
          dvAcc[c] += pz * dOutTile[j * VECS + c];
          dkAcc[c] += ds * qTile[j * VECS + c];
        }
      }
      // The next tiles overwrite these.
      workgroupBarrier();
    }
  }

  if (key < params.S) {
    for (var d = 0u; d < HEAD_DIM; d++) {
      dk[base + d] = dkAcc[d / 4u][d % 4u] * params.scale;
      dv[base + d] = dvAcc[d / 4u][d % 4u];
    }
  }
}
