import { describe, expect, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { rmsNormBackward, rmsNormForward } from './rmsnorm';
import { rmsNormBackwardRef, rmsNormRef } from './rmsnorm.ref';

interface Case {
  rows: number;
  cols: number;
  eps: number;
  /** Scale of x: RMSNorm is scale-invariant until mean(x²) nears eps. */
  scale?: number;
  accumulate?: boolean;
  accumulateDx?: boolean;
  lanes?: number;
  maxWorkgroups?: number;
  /** false: the workgroup-memory tree even where the device has subgroups. */
  subgroups?: boolean;
  /** A frozen weight: the backward gets no dweight. */
  frozen?: boolean;
  /** Gemma's (1 + weight): the stored weight is then around 0. */
  weightOffset?: number;
}

// y, rrms and dx are a few f32 roundings of O(1) values, plus the f32 sums over C behind rrms.
const rowTol = { atol: 1e-5, rtol: 1e-4 };
// dweight sums ROWS terms: its error grows with ROWS.
const reducedTol = (rows: number) => ({ atol: 2e-6 * rows, rtol: 1e-4 });

/** Checks every output against the float64 reference; returns the backward's dispatch labels. */
async function checkRmsNorm(c: Case): Promise<string[]> {
  const random = seededRandom(c.rows * 1009 + c.cols);
  const n = c.rows * c.cols;
  const shape = { rows: c.rows, cols: c.cols, eps: c.eps, weightOffset: c.weightOffset };
  const initialDx = c.accumulateDx ? randomArray(random, n) : undefined;
  const initialDw = c.accumulate ? randomArray(random, c.cols) : undefined;
  const plus = (v: Float64Array, initial?: Float32Array) => (initial ? v.map((e, i) => e + initial[i]!) : v);
  const backwardLabels: string[] = [];
  await checkKernel(await testRuntime(), {
    name: `rmsnorm ${JSON.stringify(c)}`,
    inputs: {
      x: { shape: [c.rows, c.cols], data: randomArray(random, n, c.scale ?? 1) },
      // Around 1 as a trained norm weight is, or around 0 when the kernel adds 1 (Gemma).
      weight: {
        shape: [c.cols],
        data: randomArray(random, c.cols, 0.5).map((v) => v + 1 - (c.weightOffset ?? 0)),
      },
      dy: { shape: [c.rows, c.cols], data: randomArray(random, n) },
    },
    outputs: {
      y: { shape: [c.rows, c.cols], tol: rowTol },
      // rrms = 1/√(mean x² + eps) is ~1/scale: relative tolerance only.
      rrms: { shape: [c.rows], tol: { atol: 0, rtol: 1e-5 } },
      // dx scales like rrms, so like 1/scale.
      dx: {
        shape: [c.rows, c.cols],
        tol: { atol: rowTol.atol / Math.min(1, c.scale ?? 1), rtol: rowTol.rtol },
        ...(initialDx ? { initial: initialDx } : {}),
      },
      ...(c.frozen
        ? {}
        : {
            dweight: {
              shape: [c.cols],
              tol: reducedTol(c.rows),
              ...(initialDw ? { initial: initialDw } : {}),
            },
          }),
    },
    launch: async (rt, t) => {
      const forward = await rmsNormForward(rt, {
        x: t.x!,
        weight: t.weight!,
        y: t.y!,
        rrms: t.rrms!,
        eps: c.eps,
        weightOffset: c.weightOffset,
        lanes: c.lanes,
        subgroups: c.subgroups,
      });
      const backward = await rmsNormBackward(rt, {
        x: t.x!,
        weight: t.weight!,
        rrms: t.rrms!,
        dy: t.dy!,
        dx: t.dx!,
        dweight: t.dweight,
        accumulate: c.accumulate,
        accumulateDx: c.accumulateDx,
        weightOffset: c.weightOffset,
        lanes: c.lanes,
        maxWorkgroups: c.maxWorkgroups,
        subgroups: c.subgroups,
      });
      backwardLabels.push(...backward.map((d) => d.label));
      return [forward, ...backward];
    },
    reference: (x) => {
      const { y, rrms } = rmsNormRef(x.x!, x.weight!, shape);
      const { dx, dweight } = rmsNormBackwardRef(x.x!, x.weight!, x.dy!, shape);
      return { y, rrms, dx: plus(dx, initialDx), dweight: plus(dweight, initialDw) };
    },
  });
  return backwardLabels;
}

describe('RMSNorm forward and backward', () => {
  it.each<Case>([
    { rows: 45, cols: 65, eps: 1e-5 }, // 32 lanes, 8 rows per workgroup, a ragged last workgroup
    { rows: 1, cols: 1, eps: 1e-6 },
    { rows: 7, cols: 300, eps: 1e-6 }, // C > lanes: each lane strides over the row
    { rows: 3, cols: 1030, eps: 1e-5 }, // 256 lanes, one row per workgroup
    { rows: 45, cols: 65, eps: 1e-5, lanes: 256 }, // a wide segment over a short row
    { rows: 45, cols: 65, eps: 1e-5, subgroups: false }, // the tree, where subgroups would be used
    { rows: 3, cols: 1030, eps: 1e-5, subgroups: false },
  ])('at %j', async (c) => {
    await checkRmsNorm(c);
  });

  it.each<Case>([
    { rows: 45, cols: 65, eps: 1e-5, maxWorkgroups: 2 }, // 16 segments walk 2–3 rows each
    { rows: 37, cols: 300, eps: 1e-6, maxWorkgroups: 3 }, // 6 segments, 37 rows
  ])('sums dweight over several rows per segment at %j', async (c) => {
    await checkRmsNorm(c);
  });

  it('adds into dweight and dx when accumulating', async () => {
    await checkRmsNorm({
      rows: 45,
      cols: 65,
      eps: 1e-5,
      accumulate: true,
      accumulateDx: true,
      maxWorkgroups: 4,
    });
  });

  it('computes only dx, in the row pass alone, when the weight is frozen', async () => {
    // Several rows per segment and accumulateDx: the paths that write partials when the weight trains.
    const labels = await checkRmsNorm({
      rows: 45,
      cols: 65,
      eps: 1e-5,
      accumulateDx: true,
      maxWorkgroups: 2,
      frozen: true,
    });
    expect(labels).toEqual(['rmsnorm backward x']);
  });

  // Gemma's norms: the stored weight near 0, scaled by (1 + weight); dropping the offset anywhere (y, dx
  // or the correction term) puts every output off by about the weight itself.
  it.each<Case>([
    { rows: 45, cols: 65, eps: 1e-6, weightOffset: 1 },
    { rows: 37, cols: 300, eps: 1e-6, weightOffset: 1, maxWorkgroups: 3, accumulateDx: true },
  ])("with Gemma's (1 + weight) at %j", async (c) => {
    await checkRmsNorm(c);
  });

  it.each<Case>([
    { rows: 20, cols: 48, eps: 1e-6, scale: 1e3 },
    { rows: 20, cols: 48, eps: 1e-5, scale: 1e-3 }, // mean(x²) ~ 3e-7 < eps: eps dominates
  ])('extreme ranges at %j', async (c) => {
    await checkRmsNorm(c);
  });

  it('rejects mismatched shapes with a message naming them', async () => {
    const runtime = await testRuntime();
    const { createTensor } = await import('../../tensor');
    const x = createTensor(runtime.arena, 'hidden', [4, 8]);
    const weight = createTensor(runtime.arena, 'ln_w', [6]);
    const y = createTensor(runtime.arena, 'normed', [4, 8]);
    const rrms = createTensor(runtime.arena, 'rrms', [4]);
    await expect(rmsNormForward(runtime, { x, weight, y, rrms, eps: 1e-5 })).rejects.toThrow(
      /ln_w\[6\] has 6 elements; weight, C of hidden\[4, 8\] needs 8/,
    );
  });
});
