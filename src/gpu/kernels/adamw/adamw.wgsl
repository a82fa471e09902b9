// One fused AdamW update of one tensor, exactly torch.optim.AdamW's single-tensor step, with the
// gradient first scaled by the clip coefficient that grad-norm-finish.wgsl left in clip.y:
//   g = clip·grad;  p ← p·(1 − lr·wd);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
//   p ← p − step_size·m / (sqrt(v) / sqrt(1 − β2ᵗ) + eps),  step_size = lr / (1 − β1ᵗ).
// The per-step values (lr and the two bias corrections) come from a uniform shared by every tensor of
// the step; β1, β2, eps, the weight decay and lr_scale (this tensor's lr ÷ the step's: a parameter
// group's own rate, as LoRA+ gives B) are this dispatch's own. The gradient is only read.
// One thread per vec4 (the arena pads buffers to 16 bytes); the tail of the last vec4 keeps the
// padding of p, m and v as it was.

struct Step {
  lr: f32,
  step_size: f32,
  bias_correction2_sqrt: f32,
}

struct Params {
  count: u32,
  vec_count: u32, // ceil(count / 4)
  eps: f32,
  weight_decay: f32,
  beta1: f32,
  beta2: f32,
  // 1 − β from float64 on the host: in f32, 1 − f32(0.999) is off by 1.3e-5 relative, as torch's is not.
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  lr_scale: f32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read> clip: vec4<f32>;
@group(0) @binding(3) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> exp_avg: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> exp_avg_sq: array<vec4<f32>>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let v = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (v >= params.vec_count) {
    return;
  }
  let g = grad[v] * clip.y;
  let p0 = param[v];
  let m0 = exp_avg[v];
  let s0 = exp_avg_sq[v];
  let m = params.beta1 * m0 + params.one_minus_beta1 * g;
  let s = params.beta2 * s0 + params.one_minus_beta2 * g * g;
  let decayed = p0 * (1.0 - step.lr * params.lr_scale * params.weight_decay);
  let denom = sqrt(s) / step.bias_correction2_sqrt + params.eps;
  var p = decayed - step.step_size * params.lr_scale * m / denom;
  var m_out = m;
  var s_out = s;
  if (4u * v + 4u > params.count) {
    let keep = vec4<u32>(4u * v) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.count);
    p = select(p0, p, keep);
    m_out = select(m0, m, keep);
    s_out = select(s0, s, keep);
  }
  param[v] = p;
  exp_avg[v] = m_out;
  exp_avg_sq[v] = s_out;
}
