// Rotary position embedding as HF Llama applies it (rotate_half): for each head of x [B, T, NH, D]
// and each i < D/2, the pair (x[i], x[i + D/2]) turns by the angle pos·inv_freq[i], pos = t + offsets[b]:
//   y[i] = x[i]·cos − x[i + D/2]·sin,   y[i + D/2] = x[i + D/2]·cos + x[i]·sin
// BACKWARD turns by −angle instead (the transpose). inv_freq [D/2] comes from rope-frequencies.ts.
//
// VEC (D % 8 == 0, every real head width): a thread owns 4 neighbouring pairs of one token, loads both
// halves as vec4, and reuses its cos/sin for HEADS_PER_THREAD heads; the angle depends on (t, i) only.
// Otherwise each thread owns one vec4 of y and gathers each element's partner and angle on its own.
// The angle is pos·inv_freq rounded once to f32, as HF computes it; cos_sin_of evaluates it accurately.

override VEC: bool = false;
override BACKWARD: bool = false;
override HAS_OFFSETS: bool = false;
override HEADS_PER_THREAD: u32 = 4u;

struct Params {
  count: u32, // B·T·NH·D
  T: u32,
  NH: u32,
  D: u32,
  threads: u32,
  head_chunks: u32, // ceil(NH / HEADS_PER_THREAD)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

const WORKGROUP: u32 = 256u;

// 1/(2π) split so that HI has 12 significant bits: HI times any 12-bit number is exact in f32.
const INV_TWO_PI_HI: f32 = 0.15911865234375;
const INV_TWO_PI_LO: f32 = 3.629074853961356e-5;
const TWO_PI: f32 = 6.283185307179586;

struct CosSin {
  c: vec4<f32>,
  s: vec4<f32>,
}

// cos and sin of a ≥ 0 to about 1e-7, on every GPU. WGSL only promises 2⁻¹¹ from its sin and cos, and
// only inside [−π, π] (SwiftShader gives about that), while positions reach 10⁵ radians. So: a is split
// as a_hi + a_lo with 12 significant bits each, which makes both products with INV_TWO_PI_HI and their
// fractional parts exact, leaving a in turns modulo 1; the nearest quarter turn picks the quadrant and
// what is left, within ±π/4, goes through Taylor polynomials (truncation below 2e-9).
fn cos_sin_of(a: vec4<f32>) -> CosSin {
  let a_hi = bitcast<vec4<f32>>(bitcast<vec4<u32>>(a) & vec4<u32>(0xfffff000u));
  let a_lo = a - a_hi;
  let turns = fract(a_hi * INV_TWO_PI_HI) + fract(a_lo * INV_TWO_PI_HI) + fract(a * INV_TWO_PI_LO);
  let quarters = round(4.0 * turns);
  let x = (turns - 0.25 * quarters) * TWO_PI;
  let x2 = x * x;
  let s = x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 / 362880.0))));
  let c = 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0
                + x2 * (1.0 / 40320.0 - x2 / 3628800.0))));
  // Quadrant q: (cos, sin)(x + q·π/2) = (c, s), (−s, c), (−c, −s), (s, −c).
  let q = vec4<u32>(quarters) & vec4<u32>(3u);
  let odd = (q & vec4<u32>(1u)) != vec4<u32>(0u);
  let cos_sign = select(vec4<f32>(1.0), vec4<f32>(-1.0), ((q + 1u) & vec4<u32>(2u)) != vec4<u32>(0u));
  let sin_sign = select(vec4<f32>(1.0), vec4<f32>(-1.0), (q & vec4<u32>(2u)) != vec4<u32>(0u));
  return CosSin(select(c, s, odd) * cos_sign, select(s, c, odd) * sin_sign);
}

fn position(row: u32) -> u32 {
  var pos = row % params.T;
  if (HAS_OFFSETS) {
    pos += offsets[row / params.T];
  }
  return pos;
}

fn read_x(e: u32) -> f32 {
  return x[e >> 2u][e & 3u];
}

// The angle is pos·inv_freq rounded once to f32, as HF computes it; the backward pass turns the other way.
fn rotation(pos: vec4<f32>, freq: vec4<f32>) -> CosSin {
  let r = cos_sin_of(pos * freq);
  return CosSin(r.c, select(r.s, -r.s, BACKWARD));
}

fn rotate_vec(id: u32) {
  let groups = params.D / 8u; // vec4s per half head
  let j = id % groups;
  let rest = id / groups;
  let chunk = rest % params.head_chunks;
  let row = rest / params.head_chunks; // b·T + t
  let i = 4u * j;
  let freq = vec4<f32>(inv_freq[i], inv_freq[i + 1u], inv_freq[i + 2u], inv_freq[i + 3u]);
  let turn = rotation(vec4<f32>(f32(position(row))), freq);
  let c = turn.c;
  let s = turn.s;
  let h_end = min(params.NH, (chunk + 1u) * HEADS_PER_THREAD);
  for (var h = chunk * HEADS_PER_THREAD; h < h_end; h++) {
    let base = (row * params.NH + h) * (params.D / 4u) + j;
    let lo = x[base];
    let hi = x[base + groups];
    y[base] = lo * c - hi * s;
    y[base + groups] = hi * c + lo * s;
  }
}

fn rotate_gather(v: u32) {
  let half = params.D / 2u;
  let first = 4u * v;
  var value = vec4<f32>(0.0);
  var rotated = vec4<f32>(0.0);
  var pos = vec4<f32>(0.0);
  var freq = vec4<f32>(0.0);
  for (var k = 0u; k < 4u; k++) {
    let e = first + k;
    if (e >= params.count) {
      break;
    }
    let d = e % params.D;
    let in_first_half = d < half;
    let partner = read_x(select(e - half, e + half, in_first_half));
    value[k] = read_x(e);
    rotated[k] = select(partner, -partner, in_first_half); // rotate_half(x)[d]
    pos[k] = f32(position(e / (params.NH * params.D)));
    freq[k] = inv_freq[d % half];
  }
  let turn = rotation(pos, freq);
  var result = value * turn.c + rotated * turn.s;
  if (first + 4u > params.count) {
    // The last vec4 runs into the buffer's padding: leave those bytes as they were.
    let keep = vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.count);
    result = select(y[v], result, keep);
  }
  y[v] = result;
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let id = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (id >= params.threads) {
    return;
  }
  if (VEC) {
    rotate_vec(id);
  } else {
    rotate_gather(id);
  }
}
