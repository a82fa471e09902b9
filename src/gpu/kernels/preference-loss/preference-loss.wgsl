// DPO's loss (Rafailov et al. 2023, "Direct Preference Optimization") from each token's cross-entropy,
// and the weight of each sequence's gradient, on the GPU between the loss pass and the gradient pass of
// the LM head (no host round trip). Rows [0, B) are the chosen sequences, [B, 2B) the rejected ones:
//   logp[s]     = −Σ_t loss[s·T + t]              (the sequence's log-probability of its labels)
//   r_c, r_r    = logp − ref of the chosen and of the rejected sequence;  δ = r_c − r_r
// and, as TRL's DPOTrainer computes each loss_type:
//   sigmoid (LOSS 0)  pairLoss = −log σ(β·δ) = softplus(−β·δ)
//   hinge   (LOSS 1)  pairLoss = max(0, 1 − β·δ)                      (SLiC, Zhao et al. 2023)
//   ipo     (LOSS 2)  pairLoss = (r_c/n_c − r_r/n_r − 1/(2β))²      (Azar et al. 2023; n the sequence's
//                     label tokens, TRL's length normalisation)
//   rowScales[s] = −weight[p]·∂pairLoss/∂logp[s]
// Σ_p weight[p]·pairLoss[p] is the step's loss; since logp = −Σ cross-entropy, its gradient over a token's
// logits is that token's cross-entropy gradient (softmax − onehot) times its sequence's rowScales.
//
//   loss [2B·T]   labels [2B·T] i32   ref [2B]   weight [B]   →   logp [2B]   pairLoss [B]   rowScales [2B]
//
// One workgroup per pair: its lanes stride over both sequences' T tokens, and a fixed tree folds their
// partial sums in workgroup memory, so the result is deterministic.

override LOSS: u32 = 0u;

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
@group(0) @binding(7) var<storage, read> labels: array<i32>;

const LANES: u32 = 64u;

var<workgroup> chosenSum: array<f32, LANES>;
var<workgroup> rejectedSum: array<f32, LANES>;
var<workgroup> chosenCount: array<u32, LANES>;
var<workgroup> rejectedCount: array<u32, LANES>;

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
  var nc = 0u;
  var nr = 0u;
  if (p < B) {
    for (var t = lane; t < T; t += LANES) {
      c += loss[p * T + t];
      r += loss[(B + p) * T + t];
      nc += select(0u, 1u, labels[p * T + t] >= 0);
      nr += select(0u, 1u, labels[(B + p) * T + t] >= 0);
    }
  }
  chosenSum[lane] = c;
  rejectedSum[lane] = r;
  chosenCount[lane] = nc;
  rejectedCount[lane] = nr;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      chosenSum[lane] += chosenSum[lane + stride];
      rejectedSum[lane] += rejectedSum[lane + stride];
      chosenCount[lane] += chosenCount[lane + stride];
      rejectedCount[lane] += rejectedCount[lane + stride];
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
  let chosenRatio = chosen - reference[p];
  let rejectedRatio = rejected - reference[B + p];
  let beta = params.beta;
  let z = beta * (chosenRatio - rejectedRatio);
  var lossValue: f32;
  // −∂pairLoss/∂logp of the chosen and of the rejected sequence.
  var chosenPull: f32;
  var rejectedPull: f32;
  if (LOSS == 1u) {
    lossValue = max(0.0, 1.0 - z);
    chosenPull = select(0.0, beta, z < 1.0);
    rejectedPull = -chosenPull;
  } else if (LOSS == 2u) {
    // TRL clamps the counts at 1.
    let n = vec2<f32>(f32(max(chosenCount[0], 1u)), f32(max(rejectedCount[0], 1u)));
    let gap = chosenRatio / n.x - rejectedRatio / n.y - 1.0 / (2.0 * beta);
    lossValue = gap * gap;
    chosenPull = -2.0 * gap / n.x;
    rejectedPull = 2.0 * gap / n.y;
  } else {
    lossValue = softplus(-z);
    chosenPull = beta * sigmoid(-z);
    rejectedPull = -chosenPull;
  }
  pairLoss[p] = lossValue;
  rowScales[p] = weight[p] * chosenPull;
  rowScales[B + p] = weight[p] * rejectedPull;
}
