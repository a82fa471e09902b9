// Attention backward, dK and dV (FlashAttention-2, Dao 2023, Algorithm 2, with the GQA sum): for each key
// block, walk every query head that shares its key/value head and every query block that can see it,
// recompute P and dS as the dQ kernel does, and accumulate
//   dV = Pᵀ·dOut      dK = scale · dSᵀ·Q
// Needs attention-common.wgsl prepended. With DROPOUT, dV = (P ∘ Z)ᵀ·dOut and dP = Z ∘ (dOut·vᵀ), Z
// recomputed by dropout_factor exactly as the forward drew it.
//
// One workgroup per (batch, key/value head, block of BLOCK keys), grid [⌈S/BLOCK⌉, KVH, B]. The sum over
// the NH/KVH query heads and all queries runs in one thread per element, in a fixed order: deterministic,
// no atomics. Thread (row, lane) holds its share of key and value row k0 + row and of their gradients for
// the whole walk, and of query, dOut row i0 + row for one query block. For the scores a thread takes the
// pair (query i0 + row, key k0 + lane); for the gradients, key row k0 + row and columns lane, lane + BLOCK.

@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read> dOut: array<f32>;
@group(0) @binding(6) var<storage, read> stats: array<f32>; // [B, NH, T, 2]: (lse·log2 e, Δ)
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;
@group(0) @binding(9) var<uniform> rng: vec4<u32>;

var<workgroup> qTile: array<f32, TILE>; // [query][column of the chunk]
var<workgroup> dOutTile: array<f32, TILE>; // [query][column]
var<workgroup> kTile: array<f32, TILE>; // [key][column]
var<workgroup> vTile: array<f32, TILE>; // [key][column]
var<workgroup> pTile: array<f32, 256>; // [query][key]
var<workgroup> dsTile: array<f32, 256>; // [query][key]
var<workgroup> keyOk: array<u32, BLOCK>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wg.z;
  let kvHead = wg.y;
  let k0 = wg.x * BLOCK;
  let row = lid.y;
  let lane = lid.x;
  let keyRow = k0 + row;

  var kReg: array<f32, SLOTS>;
  var vReg: array<f32, SLOTS>;
  if (keyRow < params.S) {
    let base = kv_row(batch, keyRow, kvHead);
    for (var slot = 0u; slot < SLOTS; slot++) {
      let d = slot * BLOCK + lane;
      if (d < HEAD_DIM) {
        kReg[slot] = k[base + d];
        vReg[slot] = v[base + d];
      }
    }
  }
  if (row == 0u) {
    keyOk[lane] = key_valid(batch, k0 + lane);
  }

  var dkAcc: array<f32, SLOTS>;
  var dvAcc: array<f32, SLOTS>;
  let firstQuery = query_start(k0);
  for (var g = 0u; g < params.group; g++) {
    let head = kvHead * params.group + g;
    for (var i0 = firstQuery; i0 < params.T; i0 += BLOCK) {
      let query = i0 + row;
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
        vTile[at] = vReg[slot];
        vTile[at + BLOCK] = vReg[slot + 1u];
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
      pTile[row * BLOCK + lane] = p * z;
      dsTile[row * BLOCK + lane] = p * (dp * z - delta);

      for (var d0 = 0u; d0 < HEAD_DIM; d0 += CHUNK) {
        let slot = d0 / BLOCK;
        let at = row * CHUNK_STRIDE + lane;
        qTile[at] = qReg[slot];
        qTile[at + BLOCK] = qReg[slot + 1u];
        dOutTile[at] = dOutReg[slot];
        dOutTile[at + BLOCK] = dOutReg[slot + 1u];
        workgroupBarrier();
        var dk0 = dkAcc[slot];
        var dk1 = dkAcc[slot + 1u];
        var dv0 = dvAcc[slot];
        var dv1 = dvAcc[slot + 1u];
        for (var i = 0u; i < BLOCK; i++) {
          let p_ik = pTile[i * BLOCK + row];
          let ds_ik = dsTile[i * BLOCK + row];
          dv0 += p_ik * dOutTile[i * CHUNK_STRIDE + lane];
          dv1 += p_ik * dOutTile[i * CHUNK_STRIDE + lane + BLOCK];
          dk0 += ds_ik * qTile[i * CHUNK_STRIDE + lane];
          dk1 += ds_ik * qTile[i * CHUNK_STRIDE + lane + BLOCK];
        }
        dkAcc[slot] = dk0;
        dkAcc[slot + 1u] = dk1;
        dvAcc[slot] = dv0;
        dvAcc[slot + 1u] = dv1;
        workgroupBarrier();
      }
    }
  }

  if (keyRow < params.S) {
    let base = kv_row(batch, keyRow, kvHead);
    for (var slot = 0u; slot < SLOTS; slot++) {
      let d = slot * BLOCK + lane;
      if (d < HEAD_DIM) {
        dk[base + d] = dkAcc[slot] * params.scale;
        dv[base + d] = dvAcc[slot];
      }
    }
  }
}
