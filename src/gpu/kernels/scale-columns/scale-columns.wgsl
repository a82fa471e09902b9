// Column scaling of a row-major [ROWS, COLS] matrix: out[n, c] = x[n, c] * scale[c]; with ACCUMULATE
// out += x * scale; with IN_PLACE out = out * scale (x unread). IA3's forward, and the dx of its backward
// (dx = dy * scale). Element-wise over the flat array, one thread per vec4 (the arena pads every buffer
// to 16 bytes); the last, partial vec4 leaves the padding of out untouched.

override ACCUMULATE: bool = false;
override IN_PLACE: bool = false;

struct Params {
  count: u32,
  vec_count: u32, // ceil(count / 4)
  cols: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>; // unread with IN_PLACE
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

const WORKGROUP: u32 = 256u;

// The column after c, wrapping to the next row; c + 1 is at most COLS, so no division.
fn next_column(c: u32) -> u32 {
  return select(c + 1u, 0u, c + 1u == params.cols);
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let v = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (v >= params.vec_count) {
    return;
  }
  // A vec4 may straddle rows (COLS need not be a multiple of 4): one division for its first lane.
  let c0 = (4u * v) % params.cols;
  let c1 = next_column(c0);
  let c2 = next_column(c1);
  let c3 = next_column(c2);
  let s = vec4<f32>(scale[c0], scale[c1], scale[c2], scale[c3]);
  let partial = 4u * v + 4u > params.count;
  var old = vec4<f32>(0.0);
  if (ACCUMULATE || IN_PLACE || partial) {
    old = out[v];
  }
  var value: vec4<f32>;
  if (IN_PLACE) {
    value = old * s;
  } else if (ACCUMULATE) {
    value = old + x[v] * s;
  } else {
    value = x[v] * s;
  }
  if (partial) {
    let keep = vec4<u32>(4u * v) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.count);
    value = select(old, value, keep);
  }
  out[v] = value;
}
