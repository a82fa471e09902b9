// DPO's loss (Rafailov et al. 2023, "Direct Preference Optimization"), TRL's loss_type "sigmoid", from
// each token's cross-entropy, and the weight of each sequence's gradient, on the GPU between the loss
// pass and the gradient pass of the LM head (no host round trip):
//   logp[s]      = −Σ_t loss[s·T + t]                    (the sequence's log-probability of its labels)
//   δ[p]         = (logp[p] − ref[p]) − (logp[B + p] − ref[B + p])   rows [0, B) chosen, [B, 2B) rejected
//   pairLoss[p]  = −log σ(β·δ) = softplus(−β·δ)
//   rowScales[p] = weight[p]·β·σ(−β·δ),  rowScales[B + p] = −rowScales[p]
// Σ_p weight[p]·pairLoss[p] is the step's loss; since logp = −Σ cross-entropy, its gradient over a token's
// logits is that token's cross-entropy gradient (softmax − onehot) times its sequence's rowScales.
//
//   loss [2B·T]   ref [2B]   weight [B]   →   logp [2B]   pairLoss [B]   rowScales [2B]
//
// One workgroup per pair: its lanes stride over both sequences' T tokens, and a fixed tree folds their
// partial sums in workgroup memory, so the result is deterministic.

struct Params {
  pairs: u32, // B
  tokens: u32, // T, rows per sequence
  beta: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> loss: array<f32>;
@group(0) @binding(2) var<storage, read> reference: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> logp: array<f32>;
@group(0) @binding(5) var<storage, read_write> pairLoss: array<f32>;
@group(0) @binding(6) var<storage, read_write> rowScales: array<f32>;

const LANES: u32 = 64u;

var<workgroup> chosenSum: array<f32, LANES>;
var<workgroup> rejectedSum: array<f32, LANES>;

// log(1 + exp(x)) without overflow.
fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

// 1 / (1 + exp(−x)) without overflow.
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) {
    return 1.0 / (1.0 + exp(-x));
  }
  let e = exp(x);
  return e / (1.0 + e);
}

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let p = wg.y * groups.x + wg.x;
  let B = params.pairs;
  let T = params.tokens;
  var c = 0.0;
  var r = 0.0;
  if (p < B) {
    for (var t = lane; t < T; t += LANES) {
      c += loss[p * T + t];
      r += loss[(B + p) * T + t];
    }
  }
  chosenSum[lane] = c;
  rejectedSum[lane] = r;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      chosenSum[lane] += chosenSum[lane + stride];
      rejectedSum[lane] += rejectedSum[lane + stride];
    }
    workgroupBarrier();
  }
  if (lane != 0u || p >= B) {
    return;
  }
  let chosen = -chosenSum[0];
  let rejected = -rejectedSum[0];
  logp[p] = chosen;
  logp[B + p] = rejected;
  let delta = (chosen - reference[p]) - (rejected - reference[B + p]);
  let z = params.beta * delta;
  pairLoss[p] = softplus(-z);
  let scale = weight[p] * params.beta * sigmoid(-z);
  rowScales[p] = scale;
  rowScales[B + p] = -scale;
}
