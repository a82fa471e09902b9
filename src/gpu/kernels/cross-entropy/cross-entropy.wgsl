// Fused softmax cross-entropy over the vocabulary, forward and backward in one pass per row, as the
// causal-LM loss of PyTorch / Hugging Face (F.cross_entropy, ignore_index = -100):
//   loss[n]      = logsumexp(logits[n, :]) − logits[n, label[n]]      (0 for an ignored row)
//   dlogits[n, v] = (softmax(logits[n, :])[v] − [v == label[n]]) · scale  (0 for an ignored row)
//
//   logits [rows, V]   labels [N] i32   loss [N]   dlogits [rows, V], or written over logits (IN_PLACE)
//
// Each row has LANES lanes (32 to 256, chosen from V by the launcher: a whole workgroup for a real
// vocabulary, a warp for a small one), so a workgroup takes 256 / LANES rows. Pass 1 streams the row once
// with an online max and rescaled sum (Milakov & Gimelshein 2018, "Online normalizer calculation for
// softmax"); the per-lane (max, sum) pairs are folded in workgroup memory by a fixed tree, so the result
// is deterministic. Pass 2 reads the row again and writes the gradient. Exponents are taken as (x − max) − log(sum), never x − lse, so logits of
// ±1e4 keep their small differences. In place is safe: each element is written only by the lane that
// reads it in pass 2, after every lane has finished pass 1 (the barriers of the fold), and the target
// logit is read before the first barrier. Every thread reaches the fold's barriers: lanes of a row past
// the last, or of an ignored row, fold empty pairs.
// Chunking: this call handles batch rows [rowStart, rowStart + rows); batch row rowStart + r lives in
// row logitsRowOffset + r of logits (0 for a logits chunk, rowStart for a whole batch of logits).
// A label outside [0, V) other than -100 is treated as ignored; the host helper rejects it first.
// Sequence objectives (DPO) run this twice: first with GRADIENT off (the loss alone, the logits left as
// they are), then, once each sequence's gradient weight is known, with ROW_SCALES: the gradient of batch
// row n is also multiplied by rowScales[n / rowsPerScale], the weight of the sequence it belongs to.

override IN_PLACE: bool = false;
// Gemma 2's final_logit_softcapping: each logit x is read as cap·tanh(x / cap), and its gradient is
// multiplied by that map's slope, 1 − tanh².
override SOFTCAP: bool = false;
override GRADIENT: bool = true;
override ROW_SCALES: bool = false;

struct Params {
  vocab: u32, // V
  rows: u32,
  rowStart: u32,
  logitsRowOffset: u32,
  scale: f32,
  softcap: f32,
  rowsPerScale: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<storage, read> rowScales: array<f32>;

const WORKGROUP: u32 = 256u;
override LANES: u32 = 256u;
override SEGMENTS: u32 = WORKGROUP / LANES;
// A finite "minus infinity", so that folding two empty lanes gives exp(0) · 0 = 0 rather than NaN.
const LOWEST: f32 = -0x1.fffffep+127f;

var<workgroup> laneMax: array<f32, WORKGROUP>;
var<workgroup> laneSum: array<f32, WORKGROUP>;

// The logit the loss sees: as stored, or soft-capped.
fn logit_at(index: u32) -> f32 {
  let x = logits[index];
  if (!SOFTCAP) {
    return x;
  }
  return params.softcap * stable_tanh(x / params.softcap);
}

fn write_gradient(index: u32, value: f32) {
  if (IN_PLACE) {
    logits[index] = value;
  } else {
    dlogits[index] = value;
  }
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let first = lid - lane;
  let r = (wg.y * groups.x + wg.x) * SEGMENTS + lid / LANES;
  let live = r < params.rows;
  let V = params.vocab;
  let batchRow = params.rowStart + r;
  let base = (params.logitsRowOffset + r) * V;
  var label = -1;
  if (live) {
    label = labels[batchRow];
  }
  let counted = live && label >= 0 && u32(label) < V;
  let labelColumn = u32(label);
  var targetLogit = 0.0;
  var m = LOWEST;
  var s = 0.0;
  if (counted) {
    if (lane == 0u) {
      targetLogit = logit_at(base + labelColumn);
    }
    for (var c = lane; c < V; c += LANES) {
      let x = logit_at(base + c);
      if (x > m) {
        s = s * exp(m - x) + 1.0;
        m = x;
      } else {
        s += exp(x - m);
      }
    }
  }
  laneMax[lid] = m;
  laneSum[lid] = s;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      let m1 = laneMax[lid];
      let m2 = laneMax[lid + stride];
      let mm = max(m1, m2);
      laneSum[lid] = laneSum[lid] * exp(m1 - mm) + laneSum[lid + stride] * exp(m2 - mm);
      laneMax[lid] = mm;
    }
    workgroupBarrier();
  }
  if (!live) {
    return;
  }
  if (!counted) {
    for (var c = lane; c < V; c += LANES) {
      if (GRADIENT) {
        write_gradient(base + c, 0.0);
      }
    }
    if (lane == 0u) {
      loss[batchRow] = 0.0;
    }
    return;
  }
  let rowMax = laneMax[first];
  let logSum = log(laneSum[first]);

  if (lane == 0u) {
    loss[batchRow] = (rowMax - targetLogit) + logSum;
  }
  if (!GRADIENT) {
    return;
  }
  var scale = params.scale;
  if (ROW_SCALES) {
    scale *= rowScales[batchRow / params.rowsPerScale];
  }
  for (var c = lane; c < V; c += LANES) {
    let y = logit_at(base + c);
    let p = exp((y - rowMax) - logSum);
    var slope = 1.0;
    if (SOFTCAP) {
      let t = y / params.softcap;
      slope = 1.0 - t * t;
    }
    write_gradient(base + c, (p - select(0.0, 1.0, c == labelColumn)) * scale * slope);
  }
}
