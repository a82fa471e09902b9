// Row segments, shared by the rmsnorm and layernorm kernels (prepended to each, followed by
// segment-sum-plain.wgsl or segment-sum-subgroups.wgsl, which define segment_sum and subgroup_layout).
// A 256-thread workgroup is split into SEGMENTS = 256 / LANES segments of LANES lanes; a segment owns one
// row at a time and its lanes stride along the row's C elements (lane, lane + LANES, ...), so a warp's
// loads are coalesced. LANES (a power of two, 32..256) is chosen from C by the launcher: narrow rows
// pack several rows into one workgroup instead of leaving most of its threads idle.

const WORKGROUP: u32 = 256u;
override LANES: u32 = 256u;
override SEGMENTS: u32 = WORKGROUP / LANES;

var<workgroup> segment_partial: array<vec2<f32>, WORKGROUP>;

// Sums `value` over the lanes of the caller's segment with a log2(LANES)-step tree in workgroup memory;
// every lane receives the total. It holds barriers, so every thread of the workgroup must call it, from
// uniform control flow: threads without a row pass zeros rather than skipping the call.
fn segment_tree_sum(lid: u32, value: vec2<f32>) -> vec2<f32> {
  let lane = lid % LANES;
  segment_partial[lid] = value;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      segment_partial[lid] += segment_partial[lid + stride];
    }
    workgroupBarrier();
  }
  let total = segment_partial[lid - lane];
  // The next call overwrites segment_partial; nobody may still be reading this total.
  workgroupBarrier();
  return total;
}
