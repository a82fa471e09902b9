// Shared by the three tiled attention kernels (forward, dQ, dK/dV); prepended to each of them.
//
// Layouts (B batch, T queries, S keys, NH query heads, KVH key/value heads, D = HEAD_DIM):
//   q, out, dOut, dq [B, T, NH, D]    k, v, dk, dv [B, S, KVH, D]    lse [B, NH, T]    keyMask [B, S]
// Query head h reads key/value head h / group, group = NH / KVH (consecutive heads share one, as in
// Hugging Face's repeat_kv). Key s is visible to query t when keyMask[b, s] ≠ 0 (KEY_MASK) and, with
// CAUSAL, s ≤ t + (S − T): the causal diagonal is aligned at the end, as a KV cache needs. With WINDOW
// (a sliding window of W = params.window keys, which needs CAUSAL) also t + (S − T) − s < W: a query sees
// its own key and the W − 1 before it, as transformers' sliding_window_overlay has it.
//
// Every kernel runs ROWS threads, one row each (a query's for the forward and dQ, a key's for dK/dV),
// and keeps its rows in registers as VECS vec4s, the last zero-padded past HEAD_DIM. The other side's
// rows pass through workgroup memory in tiles that every thread reads at the same address (a broadcast),
// so no thread needs another's scores: the softmax and its gradient run in one thread per row. The tiles
// stay within the 16 KiB of workgroup memory every WebGPU device has: for D ≤ 128 at full height, and for
// the 256 bucket at half (TILE_DIVISOR, which attention-kernels.ts declares with MAX_VECS).
//
// Attention-probability dropout (DROPOUT; HF's attention_probs_dropout_prob, applied to softmax(S) before
// it multiplies V): the normalised P is multiplied by dropout_factor, 0 or 1/(1 − p), a counter-based hash
// of (rng seed and step, params.dropStream, index ((b·NH + h)·T + t)·S + s into the [B, NH, T, S]
// probability matrix), dropout-hash.wgsl's, which must be prepended. The backward kernels recompute the
// same factor, so no mask is stored. lse stays that of the undropped row, and Δ = rowsum(dOut ∘ out)
// still equals Σ_s P·dP with dP = Z ∘ (dOut·vᵀ). Each kernel declares `rng` (vec4<u32> uniform: seed,
// step) at its own binding; with DROPOUT off the factor is the constant 1 and nothing reads it.

override HEAD_DIM: u32 = 64u;
override CAUSAL: bool = false;
// 0: no key mask; 1: u32 or i32 entries, nonzero = visible; 2: f32 entries, ≠ 0.0 = visible.
override KEY_MASK: u32 = 0u;
override DROPOUT: bool = false;
override WINDOW: bool = false;
// Gemma 2's attention logit soft-capping: scores become cap·tanh(score / cap) before the mask.
override SOFTCAP: bool = false;

struct Params {
  T: u32,
  S: u32,
  NH: u32,
  KVH: u32,
  group: u32,
  // S − T: how far the causal diagonal is shifted.
  causalShift: i32,
  // Attention dropout: the hash stream of this site, round(p·2^32) and 1/(1 − p) (unused with DROPOUT off).
  dropStream: u32,
  dropThreshold: u32,
  scale: f32,
  // What q (k in dK/dV) is pre-multiplied by: scale·log2(e), scores in log2 units so the softmax runs on
  // exp2; with SOFTCAP just scale, and score() takes the capped score to log2 units.
  scoreScale: f32,
  dropScale: f32,
  // The sliding window W (unused with WINDOW off).
  window: u32,
  // The soft-cap (unused with SOFTCAP off).
  softcap: f32,
  _pad1: u32,
  _pad2: u32,
  _pad3: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> keyMask: array<u32>;

const ROWS: u32 = 32u;
// MAX_VECS, the vec4s a row's registers hold, is declared by attention-kernels.ts:
// the head-dim bucket's size / 4; TILE_DIVISOR (1, or 2 for the 256 bucket) divides the tiles' rows.
override VECS: u32 = (HEAD_DIM + 3u) / 4u;
// Stands in for −∞ (WGSL has no infinity literal); exp2 of anything this far below the max is 0.
const NEG_BIG: f32 = -3.0e38;
const LN2: f32 = 0.6931471805599453;

fn q_row(batch: u32, token: u32, head: u32) -> u32 {
  return ((batch * params.T + token) * params.NH + head) * HEAD_DIM;
}

fn kv_row(batch: u32, key: u32, kvHead: u32) -> u32 {
  return ((batch * params.S + key) * params.KVH + kvHead) * HEAD_DIM;
}

fn stats_index(batch: u32, head: u32, query: u32) -> u32 {
  return (batch * params.NH + head) * params.T + query;
}

// Whether key `key` exists and the key mask lets every query see it; 1 or 0, for workgroup memory.
fn key_valid(batch: u32, key: u32) -> u32 {
  if (key >= params.S) {
    return 0u;
  }
  if (KEY_MASK == 0u) {
    return 1u;
  }
  let m = keyMask[batch * params.S + key];
  let visible = select(m != 0u, bitcast<f32>(m) != 0.0, KEY_MASK == 2u);
  return select(0u, 1u, visible);
}

fn causal_ok(query: u32, key: u32) -> bool {
  // How many positions the key sits before the query (negative: after it).
  let distance = i32(query) + params.causalShift - i32(key);
  return (!CAUSAL || distance >= 0) && (!WINDOW || distance < i32(params.window));
}

// Keys [0, end) can be visible to some query before queryEnd.
fn keys_seen_by(queryEnd: u32) -> u32 {
  if (!CAUSAL) {
    return params.S;
  }
  return u32(clamp(i32(queryEnd) + params.causalShift, 0, i32(params.S)));
}

// Keys before this one are past the window of every query from queryStart on.
fn first_key_seen_by(queryStart: u32) -> u32 {
  if (!WINDOW) {
    return 0u;
  }
  return u32(clamp(i32(queryStart) + params.causalShift - i32(params.window) + 1, 0, i32(params.S)));
}

// Queries [start, T) can see key k0 or a later one.
fn query_start(k0: u32) -> u32 {
  if (!CAUSAL) {
    return 0u;
  }
  return u32(clamp(i32(k0) - params.causalShift, 0, i32(params.T)));
}

// Queries from this one on have every key up to lastKey behind their window.
fn query_end(lastKey: u32) -> u32 {
  if (!WINDOW) {
    return params.T;
  }
  return u32(clamp(i32(lastKey) + i32(params.window) - params.causalShift, 0, i32(params.T)));
}

// What P[batch, head, query, key] is multiplied by: 0 (dropped) or 1/(1 − p) (kept); 1 with DROPOUT off.
// Out-of-range queries or keys get some factor too; their P is 0, so it never matters.
fn dropout_factor(batch: u32, head: u32, query: u32, key: u32) -> f32 {
  if (!DROPOUT) {
    return 1.0;
  }
  let index = ((batch * params.NH + head) * params.T + query) * params.S + key;
  let keep = dropout_keep(rng, params.dropStream, index, params.dropThreshold);
  return select(0.0, params.dropScale, keep);
}

const LOG2E: f32 = 1.4426950408889634;

// A pre-scaled q·k (scoreScale) as a score in log2 units: as it is, or soft-capped.
fn score(raw: f32) -> f32 {
  if (!SOFTCAP) {
    return raw;
  }
  return params.softcap * stable_tanh(raw / params.softcap) * LOG2E;
}

// d(capped score)/d(score): 1, or 1 − tanh²(score / cap) with SOFTCAP (raw is then the natural score).
fn score_slope(raw: f32) -> f32 {
  if (!SOFTCAP) {
    return 1.0;
  }
  let t = stable_tanh(raw / params.softcap);
  return 1.0 - t * t;
}

fn horizontal_sum(x: vec4<f32>) -> f32 {
  return (x.x + x.y) + (x.z + x.w);
}
