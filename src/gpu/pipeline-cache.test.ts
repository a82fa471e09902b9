import { describe, expect, it } from 'vitest';
import { matmulKernel } from './kernels/matmul/matmul';
import { PipelineCache, pipelineKey } from './pipeline-cache';
import { testRuntime } from './testing/test-runtime';

describe('pipeline cache', () => {
  it('keys pipelines by kernel and constants, whatever their order', () => {
    expect(pipelineKey(matmulKernel, { TRANS_A: true, HAS_BIAS: false })).toBe(
      pipelineKey(matmulKernel, { HAS_BIAS: false, TRANS_A: true }),
    );
    expect(pipelineKey(matmulKernel, { TRANS_A: true })).not.toBe(
      pipelineKey(matmulKernel, { TRANS_A: false }),
    );
  });

  it('compiles each specialisation once, labelled with its key', async () => {
    const cache = new PipelineCache((await testRuntime()).device);
    const [first, again] = await Promise.all([
      cache.get(matmulKernel, { TRANS_B: true }),
      cache.get(matmulKernel, { TRANS_B: true }),
    ]);
    expect(again.pipeline).toBe(first.pipeline);
    expect(first.pipeline.label).toBe('matmul(TRANS_B=1)');
    await cache.get(matmulKernel, { TRANS_B: false });
    expect(cache.size).toBe(2);
  });

  it('reports WGSL that does not compile and does not cache the failure', async () => {
    const cache = new PipelineCache((await testRuntime()).device);
    const broken = {
      name: 'broken',
      wgsl: '@compute @workgroup_size(1) fn main() { let x: f32 = 1u; }',
      bindings: [],
    };
    await expect(cache.get(broken)).rejects.toThrow();
    expect(cache.size).toBe(0);
  });
});

describe('the WGSL dump switch', () => {
  it('prints the WGSL of the kernels it names, and only those', async () => {
    const device = (await testRuntime()).device;
    const printed: string[] = [];
    const log = console.log;
    console.log = (text: string) => printed.push(text);
    const global = globalThis as { WHETSTONE_DUMP_WGSL?: string };
    global.WHETSTONE_DUMP_WGSL = 'dumped';
    try {
      const cache = new PipelineCache(device);
      const code = '@compute @workgroup_size(1) fn main() {}';
      await cache.get({ name: 'dumped', wgsl: `// dumped\n${code}`, bindings: [] });
      await cache.get({ name: 'quiet', wgsl: `// quiet\n${code}`, bindings: [] });
    } finally {
      console.log = log;
      delete global.WHETSTONE_DUMP_WGSL;
    }
    expect(printed.join('\n')).toMatch(/WGSL of kernel "dumped"[\s\S]*\/\/ dumped/);
    expect(printed.join('\n')).not.toMatch(/quiet/);
  });
});
