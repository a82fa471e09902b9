/**
 * The kernel microbenchmarks: Whetstone's matmul on every shape of kernel-shapes.ts (one with B in half
 * precision), tfjs's matMul on the plain fp32 ones, and Whetstone's attention forward; then the device's measured matmul ceiling, which is
 * the best GFLOP/s that any checked matmul here reached (Whetstone's or tfjs's, whichever; the report
 * names it), and each kernel's share of it. A measured ceiling, not the vendor's peak: it says how far a
 * kernel is from the best matmul seen on this device, in this run.
 */
import type { GpuDevice } from '../../gpu/device/acquire-device';
import type { Runtime } from '../../gpu/runtime';
import { benchAttention } from './attention-bench';
import { attentionFlops, kernelShapes, matmulFlops } from './kernel-shapes';
import { benchMatmul, type KernelTiming, type TimingBudget } from './matmul-bench';
import { benchTfjsMatmul } from './tfjs-matmul';

export interface KernelRow extends KernelTiming {
  kind: 'matmul' | 'tfjs matmul' | 'attention forward';
  /** gflops / ceiling.gflops × 100. */
  percentOfCeiling?: number;
}

export interface KernelReport {
  /** full: GPU sizes; scaled: the small sizes used on a software adapter. */
  sizes: 'full' | 'scaled';
  timing: string;
  ceiling: { gflops: number; source: string; note: string } | null;
  rows: KernelRow[];
  /** Every row's check passed. */
  passed: boolean;
}

export interface KernelBenchOptions {
  scaled: boolean;
  /** Also measure tfjs's matMul (a second source for the ceiling). */
  tfjs: boolean;
  log: (line: string) => void;
  /** Only the first N shapes of each kind (tests). */
  limit?: number;
}

export async function runKernelBench(
  runtime: Runtime,
  gpu: GpuDevice,
  options: KernelBenchOptions,
): Promise<KernelReport> {
  const shapes = kernelShapes(options.scaled);
  const take = <T>(list: T[]) => list.slice(0, options.limit ?? list.length);
  const budget: TimingBudget = options.scaled
    ? { targetMs: 150, maxReps: 20, samples: 64 }
    : { targetMs: 300, maxReps: 500, samples: 256 };
  const rows: KernelRow[] = [];
  /** Runs one benchmark; one that throws (a launcher's shape error, tfjs failing) is a failed row. */
  const add = async (
    kind: KernelRow['kind'],
    name: string,
    flops: number,
    run: () => Promise<KernelTiming>,
  ) => {
    let timing: KernelTiming;
    try {
      timing = await run();
    } catch (error) {
      const failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      timing = { name, flops, check: { passed: false, sampled: 0, maxAbsDiff: Number.NaN, failure } };
    }
    rows.push({ kind, ...timing });
    const figure =
      timing.gflops === undefined
        ? `CHECK FAILED: ${timing.check.failure}`
        : `${timing.gflops.toPrecision(3)} GFLOP/s`;
    options.log(`  ${kind} ${timing.name}: ${figure}`);
  };
  for (const shape of take(shapes.matmul)) {
    await add('matmul', shape.name, matmulFlops(shape), () => benchMatmul(runtime, shape, budget));
    // tfjs has no half-precision or 4-bit storage: it times the plain shapes (A stored [M, K]).
    if (options.tfjs && shape.R === 0 && !shape.halfB && !shape.nf4B && !shape.transA)
      await add('tfjs matmul', shape.name, matmulFlops(shape), () => benchTfjsMatmul(gpu, shape, budget));
  }
  for (const shape of take(shapes.attention))
    await add('attention forward', shape.name, attentionFlops(shape), () =>
      benchAttention(runtime, shape, budget),
    );

  // The ceiling is fp32's: a half-precision or NF4 B reads fewer bytes, so it does not set it.
  const halfNames = new Set(shapes.matmul.filter((m) => m.halfB || m.nf4B).map((m) => m.name));
  const matmuls = rows.filter(
    (r) => r.kind !== 'attention forward' && r.gflops !== undefined && !halfNames.has(r.name),
  );
  const best = matmuls.reduce<KernelRow | undefined>(
    (x, r) => (x && (x.gflops ?? 0) >= (r.gflops ?? 0) ? x : r),
    undefined,
  );
  const ceiling = best?.gflops
    ? {
        gflops: best.gflops,
        source: `${best.kind} ${best.name}`,
        note: `the best GFLOP/s of any checked matmul in this run (Whetstone's${options.tfjs ? ' or tfjs-backend-webgpu' : ''}), fp32`,
      }
    : null;
  for (const row of rows) {
    if (ceiling && row.gflops !== undefined) row.percentOfCeiling = (100 * row.gflops) / ceiling.gflops;
  }
  return {
    sizes: options.scaled ? 'scaled' : 'full',
    timing: `wall clock to queue completion, ${budget.targetMs} ms of repetitions in one compute pass (at most ${budget.maxReps}), after an untimed run; output checked first on ${budget.samples} sampled elements against float64`,
    ceiling,
    rows,
    passed: rows.every((r) => r.check.passed),
  };
}
