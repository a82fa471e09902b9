// Tiled batched matmul: C = alpha * op(A) * op(B) [+ bias] [+ lowRankScale * mask * (U * op(V))] [+ C]
//
//   op(A): [M, K], stored [M, K] or, with TRANS_A, [K, M]
//   op(B): [K, N], stored [K, N] or, with TRANS_B, [N, K]
//   U:     [M, R] (the LoRA projection); V stored [N, R] or, with V_STORED_RN, [R, N]
//
// One workgroup computes a TILE_M x 64 tile of C (TILE_M is 64, or 32 when that pads a short M less);
// each of its 8 x TILE_M/8 threads owns an 8x8 block, so every k step reads 4 vec4s of workgroup memory
// for 64 FMAs (a 4x4 block reads twice as much per FMA). K is walked in slices of 16 through workgroup
// memory; the threads load the slices' runs of 4 contiguous elements of A and B, each run a single vec4
// load when VEC_A / VEC_B say the rows are 16-byte aligned.
// The optional low-rank term runs as a second, short K loop (K = R) through the same tiles, so a LoRA
// layer never materialises W + s*B*A. Dropout masks come from dropout-hash.wgsl (prepended), keyed by
// the storage index of the dropped element: DROPOUT_OPERAND drops A (1) or B (2) as they load;
// LOW_RANK_DROPOUT multiplies the low-rank term by the mask of the output element (the dX of LoRA).
// Batch runs along grid z; a batch stride of 0 broadcasts an operand.
// SPLIT_K (split-k.ts): grid z instead splits K into ranges of params.kChunk (a multiple of TILE_K, so a
// slice never crosses into the next range); workgroup z writes its partial product at z·M·N (strideC),
// and a second pass sums the partials. Only for 2-D A and B, without bias, low-rank term or accumulation.

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override VEC_A: bool = false;
override VEC_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override DROPOUT_OPERAND: u32 = 0u;
override HAS_LOW_RANK: bool = false;
override V_STORED_RN: bool = false;
override LOW_RANK_DROPOUT: bool = false;
override SPLIT_K: bool = false;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  R: u32,
  strideA: u32,
  strideB: u32,
  strideC: u32,
  strideU: u32,
  strideV: u32,
  stream: u32,
  dropThreshold: u32,
  kChunk: u32,
  alpha: f32,
  dropScale: f32,
  lowRankScale: f32,
  _pad2: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
// Binding 2, B, and its reader read_b come from matmul-b-f32.wgsl, matmul-b-f16.wgsl or
// matmul-b-nf4.wgsl (appended).
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> U: array<f32>;
@group(0) @binding(6) var<storage, read> V: array<f32>;
@group(0) @binding(7) var<uniform> rng: vec4<u32>;

override TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;

// Both tiles are stored k-major ([TILE_K][64] as vec4s) so the inner product reads 4 neighbours at once.
var<workgroup> tileA: array<vec4<f32>, TILE_M * 4u>;
var<workgroup> tileB: array<vec4<f32>, 256>;

fn drop_factor(index: u32) -> f32 {
  return select(0.0, params.dropScale, dropout_keep(rng, params.stream, index, params.dropThreshold));
}

// The `valid` elements read from flat index `start`, each times its dropout factor.
fn dropped(v: vec4<f32>, start: u32, valid: u32) -> vec4<f32> {
  var out = v;
  for (var j = 0u; j < valid; j++) {
    out[j] *= drop_factor(start + j);
  }
  return out;
}

// B as its storage reads it (read_b), masked when B is the operand dropout drops.
fn read_b_masked(start: u32, valid: u32) -> vec4<f32> {
  let v = read_b(start, valid);
  if (DROPOUT_OPERAND == 2u) {
    return dropped(v, start, valid);
  }
  return v;
}

// Reads `valid` (0..4) contiguous elements of A from flat index `start`; the rest are zero.
fn read_a(start: u32, valid: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (VEC_A && valid == 4u) {
    v = A[start >> 2u];
  } else {
    for (var j = 0u; j < valid; j++) {
      let i = start + j;
      v[j] = A[i >> 2u][i & 3u];
    }
  }
  if (DROPOUT_OPERAND == 1u) {
    return dropped(v, start, valid);
  }
  return v;
}

fn run_length(first: u32, bound: u32) -> u32 {
  return select(0u, min(4u, bound - first), first < bound);
}

// Run t of a [TILE_M (A) or 64 (B) rows x 16] slice of a row-major [rows, ld] matrix (contiguous along k):
// row t/4, columns 4*(t%4)..+3. Scattered into the k-major tile.
fn store_k_contiguous(tile_is_a: bool, t: u32, v: vec4<f32>) {
  let row = t >> 2u;
  let kq = (t & 3u) * 4u;
  for (var j = 0u; j < 4u; j++) {
    if (tile_is_a) {
      tileA[(kq + j) * (TILE_M / 4u) + (row >> 2u)][row & 3u] = v[j];
    } else {
      tileB[(kq + j) * 16u + (row >> 2u)][row & 3u] = v[j];
    }
  }
}

// Run t of a [16 x TILE_M (A) or 64 (B)] slice of a row-major [k, ld] matrix (contiguous along the tile):
// vec4 t of the tile (k row t / (width/4)).
fn store_tile_contiguous(tile_is_a: bool, t: u32, v: vec4<f32>) {
  if (tile_is_a) {
    tileA[t] = v;
  } else {
    tileB[t] = v;
  }
}

// Run t (0..TILE_M*4-1) of the A tile's slice at k0; run t (0..255) of the B tile's below.
fn load_tile_a(batch: u32, m0: u32, k0: u32, t: u32) {
  let base = batch * params.strideA;
  if (TRANS_A) {
    let k = k0 + t / (TILE_M / 4u);
    let m = m0 + (t % (TILE_M / 4u)) * 4u;
    let valid = select(0u, run_length(m, params.M), k < params.K);
    store_tile_contiguous(true, t, read_a(base + k * params.M + m, valid));
  } else {
    let m = m0 + (t >> 2u);
    let k = k0 + (t & 3u) * 4u;
    let valid = select(0u, run_length(k, params.K), m < params.M);
    store_k_contiguous(true, t, read_a(base + m * params.K + k, valid));
  }
}

fn load_tile_b(batch: u32, n0: u32, k0: u32, t: u32) {
  let base = batch * params.strideB;
  if (TRANS_B) {
    let n = n0 + (t >> 2u);
    let k = k0 + (t & 3u) * 4u;
    let valid = select(0u, run_length(k, params.K), n < params.N);
    store_k_contiguous(false, t, read_b_masked(base + n * params.K + k, valid));
  } else {
    let k = k0 + (t >> 4u);
    let n = n0 + (t & 15u) * 4u;
    let valid = select(0u, run_length(n, params.N), k < params.K);
    store_tile_contiguous(false, t, read_b_masked(base + k * params.N + n, valid));
  }
}

fn read_scalars(from_u: bool, start: u32, valid: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < valid; j++) {
    if (from_u) {
      v[j] = U[start + j];
    } else {
      v[j] = V[start + j];
    }
  }
  return v;
}

// The low-rank slice: U [M, R] into tileA, op(V) [R, N] into tileB.
fn load_tile_u(batch: u32, m0: u32, r0: u32, t: u32) {
  let R = params.R;
  let m = m0 + (t >> 2u);
  let r = r0 + (t & 3u) * 4u;
  let valid = select(0u, run_length(r, R), m < params.M);
  store_k_contiguous(true, t, read_scalars(true, batch * params.strideU + m * R + r, valid));
}

fn load_tile_v(batch: u32, n0: u32, r0: u32, t: u32) {
  let R = params.R;
  let vBase = batch * params.strideV;
  if (V_STORED_RN) {
    let k = r0 + (t >> 4u);
    let n = n0 + (t & 15u) * 4u;
    let valid = select(0u, run_length(n, params.N), k < R);
    store_tile_contiguous(false, t, read_scalars(false, vBase + k * params.N + n, valid));
  } else {
    let n = n0 + (t >> 2u);
    let k = r0 + (t & 3u) * 4u;
    let valid = select(0u, run_length(k, R), n < params.N);
    store_k_contiguous(false, t, read_scalars(false, vBase + n * R + k, valid));
  }
}

// acc[2i + h] holds row i of the thread's block, columns 4h..4h+3.
fn multiply_tiles(acc: ptr<function, array<vec4<f32>, 16>>, tx: u32, ty: u32) {
  for (var k = 0u; k < TILE_K; k++) {
    let a0 = tileA[k * (TILE_M / 4u) + ty * 2u];
    let a1 = tileA[k * (TILE_M / 4u) + ty * 2u + 1u];
    let b0 = tileB[k * 16u + tx * 2u];
    let b1 = tileB[k * 16u + tx * 2u + 1u];
    (*acc)[0] += a0.x * b0; (*acc)[1] += a0.x * b1;
    (*acc)[2] += a0.y * b0; (*acc)[3] += a0.y * b1;
    (*acc)[4] += a0.z * b0; (*acc)[5] += a0.z * b1;
    (*acc)[6] += a0.w * b0; (*acc)[7] += a0.w * b1;
    (*acc)[8] += a1.x * b0; (*acc)[9] += a1.x * b1;
    (*acc)[10] += a1.y * b0; (*acc)[11] += a1.y * b1;
    (*acc)[12] += a1.z * b0; (*acc)[13] += a1.z * b1;
    (*acc)[14] += a1.w * b0; (*acc)[15] += a1.w * b1;
  }
}

@compute @workgroup_size(8, TILE_M / 8u, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let batch = wg.z;
  let m0 = wg.y * TILE_M;
  let n0 = wg.x * TILE_N;
  let tx = lid.x;
  let ty = lid.y;

  // A thread whose 8x8 block lies wholly outside C (an edge tile: few rows, as in a short batch) still
  // loads its share of the tiles but skips the arithmetic (whole warps skip: the test is per block row).
  let in_bounds = m0 + ty * 8u < params.M && n0 + tx * 8u < params.N;
  var acc: array<vec4<f32>, 16>;
  let k_begin = select(0u, wg.z * params.kChunk, SPLIT_K);
  let k_end = select(params.K, min(params.K, k_begin + params.kChunk), SPLIT_K);
  for (var k0 = k_begin; k0 < k_end; k0 += TILE_K) {
    for (var run = t; run < TILE_M * 4u; run += TILE_M) {
      load_tile_a(batch, m0, k0, run);
    }
    for (var run = t; run < 256u; run += TILE_M) {
      load_tile_b(batch, n0, k0, run);
    }
    workgroupBarrier();
    if (in_bounds) {
      multiply_tiles(&acc, tx, ty);
    }
    workgroupBarrier();
  }

  var low: array<vec4<f32>, 16>;
  if (HAS_LOW_RANK) {
    for (var r0 = 0u; r0 < params.R; r0 += TILE_K) {
      for (var run = t; run < TILE_M * 4u; run += TILE_M) {
        load_tile_u(batch, m0, r0, run);
      }
      for (var run = t; run < 256u; run += TILE_M) {
        load_tile_v(batch, n0, r0, run);
      }
      workgroupBarrier();
      if (in_bounds) {
        multiply_tiles(&low, tx, ty);
      }
      workgroupBarrier();
    }
  }

  for (var i = 0u; i < 8u; i++) {
    let row = m0 + ty * 8u + i;
    if (row >= params.M) {
      break;
    }
    for (var j = 0u; j < 8u; j++) {
      let col = n0 + tx * 8u + j;
      if (col >= params.N) {
        break;
      }
      let index = batch * params.strideC + row * params.N + col;
      var value = params.alpha * acc[i * 2u + j / 4u][j % 4u];
      if (HAS_BIAS) {
        value += bias[col];
      }
      if (HAS_LOW_RANK) {
        var term = params.lowRankScale * low[i * 2u + j / 4u][j % 4u];
        if (LOW_RANK_DROPOUT) {
          term *= drop_factor(index);
        }
        value += term;
      }
      if (ACCUMULATE) {
        value += C[index];
      }
      C[index] = value;
    }
  }
}
