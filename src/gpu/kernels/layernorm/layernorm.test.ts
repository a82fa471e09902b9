import { describe, expect, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { layerNormBackward, layerNormForward } from './layernorm';
import { layerNormBackwardRef, layerNormRef } from './layernorm.ref';

interface Case {
  rows: number;
  cols: number;
  eps: number;
  /** Added to every x: |mean| ≫ std, where a one-pass variance would fall apart. */
  offset?: number;
  scale?: number;
  accumulate?: boolean;
  accumulateDx?: boolean;
  lanes?: number;
  maxWorkgroups?: number;
  /** false: the workgroup-memory tree even where the device has subgroups. */
  subgroups?: boolean;
  /** Frozen gamma and beta: the backward gets neither dgamma nor dbeta. */
  frozen?: boolean;
}

// The f32 mean of x + offset is off by a few ulps of the offset (its rounding, and the sum's), so
// x − mean, and all made from it, carries an error of ~2ε·|offset|·rstd·|gamma| (ε = 6e-8) that is the
// f32 limit, not a kernel fault (measured: y off by 3e-5 at offset 100, 2e-4 at 1000). The tolerances
// grow with the offset: 20·ε·|offset| per row element.
const offsetError = (c: Case) => 20 * 6e-8 * Math.abs(c.offset ?? 0);
const rowTol = (c: Case) => ({ atol: 1e-5 + offsetError(c), rtol: 1e-4 });
// dgamma and dbeta sum ROWS terms (|dy| ≤ 1): their error grows with ROWS.
const reducedTol = (c: Case) => ({ atol: c.rows * (2e-6 + offsetError(c)), rtol: 1e-4 });

/** Checks every output against the float64 reference; returns the backward's dispatch labels. */
async function checkLayerNorm(c: Case): Promise<string[]> {
  const random = seededRandom(c.rows * 7907 + c.cols + (c.offset ?? 0));
  const n = c.rows * c.cols;
  const shape = { rows: c.rows, cols: c.cols, eps: c.eps };
  const initialDx = c.accumulateDx ? randomArray(random, n) : undefined;
  const initialGamma = c.accumulate ? randomArray(random, c.cols) : undefined;
  const initialBeta = c.accumulate ? randomArray(random, c.cols) : undefined;
  const plus = (v: Float64Array, initial?: Float32Array) => (initial ? v.map((e, i) => e + initial[i]!) : v);
  const scale = c.scale ?? 1;
  const backwardLabels: string[] = [];
  await checkKernel(await testRuntime(), {
    name: `layernorm ${JSON.stringify(c)}`,
    inputs: {
      x: { shape: [c.rows, c.cols], data: randomArray(random, n, scale).map((v) => v + (c.offset ?? 0)) },
      gamma: { shape: [c.cols], data: randomArray(random, c.cols, 0.5).map((v) => v + 1) },
      beta: { shape: [c.cols], data: randomArray(random, c.cols) },
      dy: { shape: [c.rows, c.cols], data: randomArray(random, n) },
    },
    outputs: {
      y: { shape: [c.rows, c.cols], tol: rowTol(c) },
      mean: { shape: [c.rows], tol: { atol: 1e-6 * scale, rtol: 1e-6 } },
      // rstd ~ 1/std: relative tolerance only; two-pass variance keeps it accurate at any offset.
      rstd: { shape: [c.rows], tol: { atol: 0, rtol: 1e-5 } },
      // dx scales like rstd, so like 1/scale.
      dx: {
        shape: [c.rows, c.cols],
        tol: { atol: rowTol(c).atol / Math.min(1, scale), rtol: 1e-4 },
        ...(initialDx ? { initial: initialDx } : {}),
      },
      ...(c.frozen
        ? {}
        : {
            dgamma: {
              shape: [c.cols],
              tol: reducedTol(c),
              ...(initialGamma ? { initial: initialGamma } : {}),
            },
            dbeta: { shape: [c.cols], tol: reducedTol(c), ...(initialBeta ? { initial: initialBeta } : {}) },
          }),
    },
    launch: async (rt, t) => {
      const forward = await layerNormForward(rt, {
        x: t.x!,
        gamma: t.gamma!,
        beta: t.beta!,
        y: t.y!,
        mean: t.mean!,
        rstd: t.rstd!,
        eps: c.eps,
        lanes: c.lanes,
        subgroups: c.subgroups,
      });
      const backward = await layerNormBackward(rt, {
        x: t.x!,
        gamma: t.gamma!,
        mean: t.mean!,
        rstd: t.rstd!,
        dy: t.dy!,
        dx: t.dx!,
        dgamma: t.dgamma,
        dbeta: t.dbeta,
        accumulate: c.accumulate,
        accumulateDx: c.accumulateDx,
        lanes: c.lanes,
        maxWorkgroups: c.maxWorkgroups,
        subgroups: c.subgroups,
      });
      backwardLabels.push(...backward.map((d) => d.label));
      return [forward, ...backward];
    },
    reference: (x) => {
      const { y, mean, rstd } = layerNormRef(x.x!, x.gamma!, x.beta!, shape);
      const { dx, dgamma, dbeta } = layerNormBackwardRef(x.x!, x.gamma!, x.dy!, shape);
      return {
        y,
        mean,
        rstd,
        dx: plus(dx, initialDx),
        dgamma: plus(dgamma, initialGamma),
        dbeta: plus(dbeta, initialBeta),
      };
    },
  });
  return backwardLabels;
}

describe('LayerNorm forward and backward', () => {
  it.each<Case>([
    { rows: 45, cols: 65, eps: 1e-5 }, // 32 lanes, 8 rows per workgroup, a ragged last workgroup
    { rows: 1, cols: 1, eps: 1e-6 }, // var = 0: y = beta, dx = 0
    { rows: 7, cols: 300, eps: 1e-6 }, // C > lanes: each lane strides over the row
    { rows: 3, cols: 1030, eps: 1e-5 }, // 256 lanes, one row per workgroup
    { rows: 45, cols: 65, eps: 1e-12 }, // BERT's eps
    { rows: 45, cols: 65, eps: 1e-5, subgroups: false }, // the tree, where subgroups would be used
    { rows: 3, cols: 1030, eps: 1e-5, subgroups: false },
  ])('at %j', async (c) => {
    await checkLayerNorm(c);
  });

  it.each<Case>([
    { rows: 45, cols: 65, eps: 1e-5, offset: 100 },
    { rows: 7, cols: 300, eps: 1e-6, offset: 1000 },
    { rows: 20, cols: 48, eps: 1e-5, offset: -300, lanes: 64 },
  ])('is stable with a large mean at %j', async (c) => {
    await checkLayerNorm(c);
  });

  it.each<Case>([
    { rows: 45, cols: 65, eps: 1e-5, maxWorkgroups: 2 }, // 16 segments walk 2–3 rows each
    { rows: 37, cols: 300, eps: 1e-6, maxWorkgroups: 3 }, // 6 segments, 37 rows
  ])('sums dgamma and dbeta over several rows per segment at %j', async (c) => {
    await checkLayerNorm(c);
  });

  it('adds into dgamma, dbeta and dx when accumulating', async () => {
    await checkLayerNorm({
      rows: 45,
      cols: 65,
      eps: 1e-5,
      accumulate: true,
      accumulateDx: true,
      maxWorkgroups: 4,
    });
  });

  it('computes only dx, in the row pass alone, when gamma and beta are frozen', async () => {
    // Several rows per segment and accumulateDx: the paths that write partials when the norm trains.
    const labels = await checkLayerNorm({
      rows: 45,
      cols: 65,
      eps: 1e-5,
      accumulateDx: true,
      maxWorkgroups: 2,
      frozen: true,
    });
    expect(labels).toEqual(['layernorm backward x']);
  });

  it.each<Case>([
    { rows: 20, cols: 48, eps: 1e-6, scale: 1e3 },
    { rows: 20, cols: 48, eps: 1e-5, scale: 1e-3 }, // var ~ 3e-7 < eps: eps dominates
  ])('extreme ranges at %j', async (c) => {
    await checkLayerNorm(c);
  });

  it('rejects mismatched shapes with a message naming them', async () => {
    const runtime = await testRuntime();
    const { createTensor } = await import('../../tensor');
    const t = (label: string, shape: number[]) => createTensor(runtime.arena, label, shape);
    const args = {
      x: t('h', [2, 3, 8]),
      gamma: t('ln_1.weight', [8]),
      mean: t('mean', [6]),
      rstd: t('rstd', [5]),
      dy: t('dh', [2, 3, 8]),
      dx: t('dx', [2, 3, 8]),
      dgamma: t('dgamma', [8]),
      dbeta: t('dbeta', [8]),
    };
    await expect(layerNormBackward(runtime, args)).rejects.toThrow(
      /rstd\[5\] has 5 elements; rstd, one per row of h\[2, 3, 8\] needs 6/,
    );
    const { dbeta: _, ...gammaOnly } = { ...args, rstd: t('rstd', [6]) };
    await expect(layerNormBackward(runtime, gammaOnly)).rejects.toThrow(
      /layerNormBackward: got dgamma without dbeta; pass both/,
    );
  });
});
