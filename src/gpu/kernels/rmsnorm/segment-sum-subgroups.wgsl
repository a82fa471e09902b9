// segment_sum with subgroups (the `subgroups` feature; `enable subgroups;` opens the module, before
// row-segments.wgsl): segment_sum(lid, value, fast) gives every lane the sum over its segment; every
// thread calls it from uniform control flow, with `fast` from subgroup_layout(lid), called once at the
// kernel's start.
// Where every subgroup is a run of consecutive invocations inside one segment (the layout desktop GPUs
// give 1-D workgroups, though WGSL does not promise it), one subgroupAdd per subgroup and a read of the
// segment's few subgroup totals replace the log2(LANES)-step tree in workgroup memory: 2 barriers
// instead of log2(LANES) + 2. subgroup_layout checks that layout in the shader, for this pipeline's
// subgroups, and otherwise the tree runs. Both paths sum in a fixed order, the same for every lane.

var<workgroup> layout_broken: atomic<u32>;
var<workgroup> layout_flag: u32;

// True, for the whole workgroup, when every subgroup is invocations [first, first + size) with size
// dividing both first and LANES, so no subgroup straddles two segments.
fn subgroup_layout(lid: u32) -> bool {
  let first = subgroupBroadcastFirst(lid);
  let size = subgroupAdd(1u);
  let ok = subgroupAll(lid >= first && lid - first < size && first % size == 0u && LANES % size == 0u);
  if (!ok) {
    atomicStore(&layout_broken, 1u);
  }
  workgroupBarrier();
  if (lid == 0u) {
    layout_flag = atomicLoad(&layout_broken);
  }
  return workgroupUniformLoad(&layout_flag) == 0u;
}

fn segment_sum(lid: u32, value: vec2<f32>, fast: bool) -> vec2<f32> {
  let lane = lid % LANES;
  let start = lid - lane;
  if (fast) {
    let total = subgroupAdd(value);
    let size = subgroupAdd(1u);
    if (lid % size == 0u) {
      segment_partial[lid] = total;
    }
    workgroupBarrier();
    var sum = vec2<f32>(0.0);
    for (var i = start; i < start + LANES; i += size) {
      sum += segment_partial[i];
    }
    // The next call overwrites segment_partial; nobody may still be reading these totals.
    workgroupBarrier();
    return sum;
  }
  return segment_tree_sum(lid, value);
}
