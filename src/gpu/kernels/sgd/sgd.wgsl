// One plain SGD update of one tensor, torch.optim.SGD with momentum 0 (so no state), its weight decay
// coupled into the gradient, and the gradient first scaled by the clip coefficient in clip.y:
//   d = clip·grad + wd·p;  p ← p − lr·d.
// lr comes from the step uniform shared by every tensor of the step (the AdamW one; SGD reads only lr),
// times this tensor's lr_scale (a parameter group's own rate, as LoRA+ gives B).
// One thread per vec4 (the arena pads buffers to 16 bytes); the tail of the last vec4 keeps p's padding.

struct Step {
  lr: f32,
}

struct Params {
  count: u32,
  vec_count: u32, // ceil(count / 4)
  weight_decay: f32,
  lr_scale: f32,
}

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read> clip: vec4<f32>;
@group(0) @binding(3) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> param: array<vec4<f32>>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let v = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (v >= params.vec_count) {
    return;
  }
  let p0 = param[v];
  let d = grad[v] * clip.y + params.weight_decay * p0;
  var p = p0 - step.lr * params.lr_scale * d;
  if (4u * v + 4u > params.count) {
    let keep = vec4<u32>(4u * v) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.count);
    p = select(p0, p, keep);
  }
  param[v] = p;
}
