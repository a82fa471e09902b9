// segment_sum without subgroups: always the tree of row-segments.wgsl. Kernels call subgroup_layout once
// at their start and hand the result to every segment_sum; here there is no fast layout.

fn subgroup_layout(lid: u32) -> bool {
  return false;
}

fn segment_sum(lid: u32, value: vec2<f32>, fast: bool) -> vec2<f32> {
  return segment_tree_sum(lid, value);
}
