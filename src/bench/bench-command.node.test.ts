/**
 * The benchmark's code path end to end, small: measureBench (what `whetstone bench` and `npm run bench`
 * run) on two tiny-fixture cases (LoRA r=8 and full, so the memory figure has a pair) with one warm-up
 * and one timed step, and the first matmul and attention shape of the kernel microbenchmarks. Every
 * figure must be a measured positive number and every check must have passed; the report must render.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../gpu/testing/test-runtime';
import { benchPassed, measureBench } from './bench-command';
import { formatReport, markdownReport } from './report';

describe('whetstone bench, tiny', () => {
  it('runs a checked case pair, kernel microbenchmarks and the memory figure', async () => {
    const runtime = await testRuntime();
    const report = await measureBench(
      runtime,
      runtime.gpu,
      {
        gpu: false,
        cases: [
          { shape: 'tiny-fixture', method: 'lora-r8' },
          { shape: 'tiny-fixture', method: 'full' },
        ],
        warmup: 1,
        steps: 1,
        kernelTimes: false,
        kernels: true,
        kernelLimit: 1,
      },
      () => {},
    );
    expect(report.cases.map((c) => [c.method, c.status, c.check.failure])).toEqual([
      ['lora-r8', 'ok', undefined],
      ['full', 'ok', undefined],
    ]);
    for (const c of report.cases) expect(c.whetstone?.stepMs).toBeGreaterThan(0);

    const kernels = report.kernels;
    if (!kernels) throw new Error('The kernel microbenchmarks did not run.');
    expect(kernels.rows.map((r) => r.kind)).toEqual(['matmul', 'tfjs matmul', 'attention forward']);
    for (const row of kernels.rows) {
      expect(row.check.passed, row.check.failure).toBe(true);
      expect(row.check.sampled).toBeGreaterThan(0);
      expect(row.ms).toBeGreaterThan(0);
      expect(row.gflops).toBeGreaterThan(0);
      expect(row.percentOfCeiling).toBeGreaterThan(0);
    }
    // The ceiling is the best matmul measured, so no matmul exceeds it and one reaches it.
    const matmuls = kernels.rows.filter((r) => r.kind !== 'attention forward');
    expect(Math.max(...matmuls.map((r) => r.percentOfCeiling ?? 0))).toBeCloseTo(100, 6);
    expect(kernels.ceiling?.gflops).toBe(Math.max(...matmuls.map((r) => r.gflops ?? 0)));

    const [memory] = report.memory ?? [];
    if (!memory) throw new Error('No memory figure for the LoRA/full pair.');
    expect(memory.lora).toBe('lora-r8');
    expect(memory.loraPeakBytes).toBe(report.cases[0]?.whetstone?.peakBytes);
    expect(memory.fullPeakBytes).toBe(report.cases[1]?.whetstone?.peakBytes);
    expect(memory.measuredSavingBytes).toBeGreaterThan(0);
    expect(memory.predictedSavingBytes).toBeGreaterThan(0);
    expect(memory.holds).toBe(memory.relativeError <= 0.1);

    expect(benchPassed(report)).toBe(true);
    const json = JSON.parse(JSON.stringify(report));
    expect(formatReport(json)).toContain('Measured matmul ceiling');
    expect(markdownReport(json)).toContain('planner predicts');
    expect(markdownReport(json)).toMatch(
      /Peak GPU memory, times less than tfjs[^\n]*\n\n {4}tiny-fixture lora-r8 {2}█+ \d+\.\d\d×/,
    );
  }, 300_000); // ~60 s on SwiftShader with the CPUs to itself; the CPUs here are often shared.
});
