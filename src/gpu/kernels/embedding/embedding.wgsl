// Embedding lookup (the token-embedding forward): out[n, c] = table[ids[n], c].
//
//   ids [N] u32     table [V, C]     out [N, C]
//
// One invocation per output element over a folded 1-D grid (grid.ts), so a warp reads and writes a
// contiguous run of a row: coalesced on both sides, with the id a broadcast load. An id outside [0, V)
// gives a row of zeros rather than reading past the table; the host helper rejects such ids before
// they reach the GPU, so this is only the guard for ids a caller writes some other way.

// Gemma multiplies each looked-up row by √C (its embed_scale); 1 for every other model.
override SCALE: f32 = 1.0;

struct Params {
  tokens: u32, // N
  vocab: u32, // V
  width: u32, // C
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
// Binding 2, the table, and its reader table_at come from embedding-table-f32.wgsl or -f16.wgsl (appended).
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * groups.x + wg.x) * WORKGROUP + lid;
  if (i >= params.tokens * params.width) {
    return;
  }
  let n = i / params.width;
  let c = i - n * params.width;
  let id = ids[n];
  var value = 0.0;
  if (id < params.vocab) {
    value = table_at(id * params.width + c) * SCALE;
  }
  out[i] = value;
}
