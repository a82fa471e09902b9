// Second pass of the global gradient norm: one workgroup folds every partial sum of squares, in a fixed
// order (thread t takes partials t, t + 256, ..., then a fixed tree), and writes the clip state
//   clip = (norm, coefficient, 0, 0),  coefficient = min(1, max_norm / (norm + 1e-6)),
// PyTorch's clip_grad_norm_ formula; max_norm = 0 turns clipping off (coefficient 1). The optimizer
// kernels read the coefficient from this buffer, so clipping needs no trip to the host.

struct Params {
  count: u32,
  max_norm: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> clip: vec4<f32>;

const WORKGROUP: u32 = 256u;

var<workgroup> scratch: array<f32, WORKGROUP>;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  for (var i = lid; i < params.count; i += WORKGROUP) {
    sum += partials[i];
  }
  scratch[lid] = sum;
  workgroupBarrier();
  for (var half = WORKGROUP / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      scratch[lid] += scratch[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let norm = sqrt(scratch[0]);
    var coefficient = 1.0;
    if (params.max_norm > 0.0) {
      coefficient = min(1.0, params.max_norm / (norm + 1e-6));
    }
    clip = vec4<f32>(norm, coefficient, 0.0, 0.0);
  }
}
