// Attention backward, dQ (FlashAttention-2, Dao 2023, split as in its Triton kernels so no atomics are
// needed): for each query, walk the keys it can see, recompute
//   P = exp2(q·kᵀ·scale·log2 e − lse·log2 e)   dP = dOut·vᵀ   dS = P ∘ (dP − Δ)
// and accumulate dQ = scale · dS·K. Needs attention-common.wgsl prepended. With DROPOUT the forward used
// P ∘ Z, so dP = Z ∘ (dOut·vᵀ), Z recomputed by dropout_factor.
//
// One thread per query row, ROWS per workgroup, grid [⌈T/ROWS⌉, NH, B]. A thread keeps its query row
// (pre-scaled by scale·log2 e), dOut row and dQ row in registers and walks the keys in tiles of KEYS: a
// K and a V tile are loaded together (coalesced) into workgroup memory and read by every thread at the
// same address, 2 barriers per tile. Each dQ element is summed by its own thread in key order, so the
// result is deterministic.

@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read> dOut: array<f32>;
@group(0) @binding(6) var<storage, read> stats: array<f32>; // [B, NH, T, 2]: (lse·log2 e, Δ)
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;
@group(0) @binding(8) var<uniform> rng: vec4<u32>;

const KEYS: u32 = 16u / TILE_DIVISOR;

// [key][vec]; 8 KiB each at the largest head dim.
var<workgroup> kTile: array<vec4<f32>, KEYS * MAX_VECS>;
var<workgroup> vTile: array<vec4<f32>, KEYS * MAX_VECS>;

fn load_tiles(batch: u32, kvHead: u32, k0: u32, lid: u32) {
  for (var e = lid; e < KEYS * HEAD_DIM; e += ROWS) {
    let row = e / HEAD_DIM;
    let d = e % HEAD_DIM;
    let key = k0 + row;
    var kx = 0.0;
    var vx = 0.0;
    if (key < params.S) {
      let i = kv_row(batch, key, kvHead) + d;
      kx = k[i];
      vx = v[i];
    }
    kTile[row * VECS + d / 4u][d % 4u] = kx;
    vTile[row * VECS + d / 4u][d % 4u] = vx;
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
  var dOutReg: array<vec4<f32>, MAX_VECS>;
  var lse2 = 0.0;
  var delta = 0.0;
  if (queryValid) {
    for (var d = 0u; d < HEAD_DIM; d++) {
      qReg[d / 4u][d % 4u] = q[base + d] * params.scoreScale;
      dOutReg[d / 4u][d % 4u] = dOut[base + d];
    }
    let i = stats_index(batch, head, query);
    lse2 = stats[2u * i];
    delta = stats[2u * i + 1u];
  }

  var acc: array<vec4<f32>, MAX_VECS>;
  let keyEnd = keys_seen_by(min(q0 + ROWS, params.T));
  for (var k0 = first_key_seen_by(q0); k0 < keyEnd; k0 += KEYS) {
    load_tiles(batch, kvHead, k0, lid);
    workgroupBarrier();
    for (var j = 0u; j < KEYS; j++) {
      let key = k0 + j;
      if (!(queryValid && key_valid(batch, key) != 0u && causal_ok(query, key))) {
        continue;
      }
      var s = vec4<f32>(0.0);
      var dp = vec4<f32>(0.0);
      for (var i = 0u; i < VECS; i++) {
        s += qReg[i] * kTile[j * VECS + i];
        dp += dOutReg[i] * vTile[j * VECS + i];
      }
      let raw = horizontal_sum(s);
      let p = exp2(score(raw) - lse2);
      let z = dropout_factor(batch, head, query, key);
      let ds = p * (horizontal_sum(dp) * z - delta) * score_slope(raw);
      for (var i = 0u; i < VECS; i++) {
        acc[i] += ds * kTile[j * VECS + i];
      }
    }
    // The next tiles overwrite these.
    workgroupBarrier();
  }

  if (queryValid) {
    for (var d = 0u; d < HEAD_DIM; d++) {
      dq[base + d] = acc[d / 4u][d % 4u] * params.scale;
    }
  }
}
