/**
 * The subgroup layout check of segment-sum-subgroups.wgsl, run alone: on this device (where it has
 * the `subgroups` feature) it says whether the norm kernels take the subgroup path, so the rmsnorm and
 * layernorm tests are known to cover that path; and it must refuse a layout that does not fit, which
 * is forced here by segments narrower than the subgroups (LANES = 1).
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../../testing/test-runtime';
import { rowSegmentsSubgroupsWgsl } from './row-segments';

const probe = `${rowSegmentsSubgroupsWgsl}
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(WORKGROUP)
fn main(@builtin(local_invocation_index) lid: u32) {
  let fast = subgroup_layout(lid);
  let total = segment_sum(lid, vec2<f32>(f32(lid), 1.0), fast);
  out[lid] = select(0u, 1u, fast);
  out[WORKGROUP + lid] = u32(total.x);
  out[2u * WORKGROUP + lid] = u32(total.y);
}`;

/** Per invocation: the layout flag, the segment's sum of invocation ids, the segment's lane count. */
async function runProbe(lanes: number): Promise<Uint32Array> {
  const { device } = await testRuntime();
  const module = device.createShaderModule({ code: probe });
  const pipeline = await device.createComputePipelineAsync({
    layout: 'auto',
    compute: { module, entryPoint: 'main', constants: { LANES: lanes } },
  });
  const size = 3 * 256 * 4;
  const out = device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: out } }],
    }),
  );
  pass.dispatchWorkgroups(1);
  pass.end();
  encoder.copyBufferToBuffer(out, 0, read, 0, size);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const values = new Uint32Array(read.getMappedRange().slice(0));
  read.unmap();
  out.destroy();
  read.destroy();
  return values;
}

/** What every invocation must get: its segment's lane count and the sum of the segment's ids. */
function expectSegmentSums(values: Uint32Array, lanes: number) {
  for (let lid = 0; lid < 256; lid++) {
    const start = lid - (lid % lanes);
    expect(values[256 + lid], `sum at ${lid}`).toBe(lanes * start + (lanes * (lanes - 1)) / 2);
    expect(values[512 + lid], `count at ${lid}`).toBe(lanes);
  }
}

describe.skipIf(!(await testRuntime()).device.features.has('subgroups' as GPUFeatureName))(
  'row segments with subgroups',
  () => {
    it('takes the subgroup path on this device and sums each segment exactly', async () => {
      const values = await runProbe(32);
      expect([...values.subarray(0, 256)].every((flag) => flag === 1)).toBe(true);
      expectSegmentSums(values, 32);
    });

    it('falls back to the tree when subgroups straddle segments, with the same sums', async () => {
      const values = await runProbe(1);
      expect([...values.subarray(0, 256)].every((flag) => flag === 0)).toBe(true);
      expectSegmentSums(values, 1);
    });
  },
);
