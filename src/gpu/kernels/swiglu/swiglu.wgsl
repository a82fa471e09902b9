// SwiGLU, the gate of Llama's MLP (Shazeer 2020, "GLU Variants Improve Transformer"):
//   h = silu(gate) · up,   silu(g) = g·σ(g),   gate, up, h: [ROWS, F], handled as flat arrays
// BACKWARD, from dh: dgate = dh · up · σ(g)·(1 + g·(1 − σ(g))),   dup = dh · silu(g).
// With GELU, GeGLU (Gemma's MLP, hidden_activation gelu_pytorch_tanh): gelu_tanh(g) = g·σ(z) with
// z = 2√(2/π)·(g + 0.044715·g³), and its slope, from gelu-tanh.wgsl (prepended), as gelu.wgsl has them.
// One thread per vec4 (the arena pads every buffer to 16 bytes); the last, partial vec4 leaves the
// padding of the outputs untouched. Bindings unused by a pass get a stand-in buffer.

override BACKWARD: bool = false;
override GELU: bool = false;

struct Params {
  count: u32, // ROWS·F
  vec_count: u32, // ceil(count / 4)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gate: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> up: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> dh: array<vec4<f32>>; // BACKWARD only
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>; // h, or dgate with BACKWARD
@group(0) @binding(5) var<storage, read_write> dup: array<vec4<f32>>; // BACKWARD only

const WORKGROUP: u32 = 256u;

struct Sigmoid {
  s: vec4<f32>, // σ(z)
  one_minus_s: vec4<f32>, // 1 − σ(z), without the cancellation of computing it from s
}

// exp of −|z| never overflows, so any finite z gives finite σ(z) and 1 − σ(z) (WGSL lets an
// implementation assume there are no infinities, so exp(88+) must not happen).
fn sigmoid(z: vec4<f32>) -> Sigmoid {
  let e = exp(-abs(z));
  let r = 1.0 / (1.0 + e);
  let positive = z >= vec4<f32>(0.0);
  return Sigmoid(select(e * r, r, positive), select(r, e * r, positive));
}

struct Activation {
  value: vec4<f32>, // act(g)
  slope: vec4<f32>, // act'(g)
}

fn activation(g: vec4<f32>) -> Activation {
  if (GELU) {
    let gelu = gelu_tanh(g);
    return Activation(gelu.value, gelu.slope);
  }
  let sig = sigmoid(g);
  return Activation(g * sig.s, sig.s * (1.0 + g * sig.one_minus_s));
}

fn merge_tail(v: u32, fresh: vec4<f32>, old: vec4<f32>) -> vec4<f32> {
  let keep = vec4<u32>(4u * v) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.count);
  return select(old, fresh, keep);
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let v = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (v >= params.vec_count) {
    return;
  }
  let g = gate[v];
  let u = up[v];
  let act = activation(g);
  let partial = 4u * v + 4u > params.count;
  if (BACKWARD) {
    let grad = dh[v];
    var dgate = grad * u * act.slope;
    var dup_value = grad * act.value;
    if (partial) {
      dgate = merge_tail(v, dgate, out[v]);
      dup_value = merge_tail(v, dup_value, dup[v]);
    }
    out[v] = dgate;
    dup[v] = dup_value;
  } else {
    var h = act.value * u;
    if (partial) {
      h = merge_tail(v, h, out[v]);
    }
    out[v] = h;
  }
}
