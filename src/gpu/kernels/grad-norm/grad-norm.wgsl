// Sums of squares of up to SLOTS gradient tensors per dispatch, one partial sum per workgroup:
// the first pass of the global L2 norm that gradient clipping needs (grad-norm-finish.wgsl is the second).
//
// WGSL cannot index bindings, so the tensors of one dispatch sit in SLOTS fixed bindings (7 reads and the
// partials write fill the 8 storage buffers every WebGPU device allows); unused slots hold a placeholder.
// Workgroups are laid end to end over the slots: slot k owns groups [first_k, first_k + groups_k), and
// block b of them takes vec4s b·WORKGROUP + lid, then strides by groups_k·WORKGROUP. The slot is the same
// for a whole workgroup, so its switch never diverges. Which elements a thread sums, and the tree that
// folds them, depend only on the sizes, never on scheduling: the result is bitwise reproducible.
// Gradients bind as vec4 (the arena pads every buffer to 16 bytes); the tail of the last vec4 is masked
// with select, never a multiply, so padding holding NaN cannot leak in.

struct Params {
  partial_base: u32, // index in partials of this dispatch's first workgroup
  slots: u32,
  // Per slot: (elements, first workgroup, workgroups, unused).
  slot: array<vec4<u32>, 7>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> g0: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g1: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> g2: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> g3: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> g4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> g5: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> g6: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> partials: array<f32>;

const WORKGROUP: u32 = 256u;

var<workgroup> scratch: array<f32, WORKGROUP>;

fn load(slot: u32, v: u32) -> vec4<f32> {
  switch slot {
    case 0u: { return g0[v]; }
    case 1u: { return g1[v]; }
    case 2u: { return g2[v]; }
    case 3u: { return g3[v]; }
    case 4u: { return g4[v]; }
    case 5u: { return g5[v]; }
    default: { return g6[v]; }
  }
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let group = wg.x;
  var slot = 0u;
  for (var k = 1u; k < params.slots; k++) {
    if (group >= params.slot[k].y) {
      slot = k;
    }
  }
  let info = params.slot[slot];
  let count = info.x;
  let vec_count = (count + 3u) / 4u;
  let stride = info.z * WORKGROUP;
  var sum = 0.0;
  for (var v = (group - info.y) * WORKGROUP + lid; v < vec_count; v += stride) {
    var value = load(slot, v);
    if (4u * v + 4u > count) {
      let keep = vec4<u32>(4u * v) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(count);
      value = select(vec4<f32>(0.0), value, keep);
    }
    sum += dot(value, value);
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
    partials[params.partial_base + group] = scratch[0];
  }
}
