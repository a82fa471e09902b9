import { describe, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { createRngState } from '../dropout/rng-state';
import { doraScaleBackward, doraScaleForward, dropoutAdd } from './dora-scale';
import { doraScaleBackwardRef, doraScaleRef, dropoutAddRef } from './dora-scale.ref';

interface Case {
  rows: number;
  cols: number;
  bias?: boolean;
  accumulate?: boolean;
  subtractOne?: boolean;
  /** Scale of v and dy (extreme ranges). */
  range?: number;
}

const cases: Case[] = [
  { rows: 45, cols: 65 },
  { rows: 45, cols: 65, bias: true },
  { rows: 1, cols: 1 },
  { rows: 7, cols: 33, accumulate: true, subtractOne: true },
  { rows: 300, cols: 3, bias: true, range: 1e4 },
  { rows: 16, cols: 17, accumulate: true, subtractOne: true, range: 1e-4 },
];

function inputs(c: Case) {
  const random = seededRandom(c.rows * 97 + c.cols);
  const range = c.range ?? 1;
  const count = c.rows * c.cols;
  const positive = (n: number, lo: number) =>
    Float32Array.from({ length: n }, () => lo + random() * (2 - lo));
  return {
    v: { shape: [c.rows, c.cols], data: randomArray(random, count, range) },
    dy: { shape: [c.rows, c.cols], data: randomArray(random, count, range) },
    // Magnitudes and norms are positive; norms near 1 and magnitudes around them, as in training.
    magnitude: { shape: [c.cols], data: positive(c.cols, 0.3) },
    norm: { shape: [c.cols], data: positive(c.cols, 0.5) },
    bias: { shape: [c.cols], data: randomArray(random, c.cols) },
    start: randomArray(random, count, range),
    startDm: randomArray(random, c.cols),
  };
}

// One division and one or two multiply-adds in f32.
const tol = (range: number) => ({ atol: 1e-6 * range, rtol: 2e-6 });
// dm sums `rows` products: the tolerance grows with it.
const reducedTol = (c: Case) => ({ atol: 1e-6 * c.rows * (c.range ?? 1) ** 2, rtol: 1e-5 });

describe('DoRA scale', () => {
  it.each(cases)('forward at %j', async (c) => {
    const x = inputs(c);
    const range = c.range ?? 1;
    await checkKernel(await testRuntime(), {
      name: `dora scale ${JSON.stringify(c)}`,
      inputs: { v: x.v, magnitude: x.magnitude, norm: x.norm, ...(c.bias ? { bias: x.bias } : {}) },
      outputs: {
        y: {
          shape: [c.rows, c.cols],
          tol: tol(range),
          ...(c.accumulate ? { initial: x.start } : {}),
        },
      },
      launch: (rt, t) =>
        doraScaleForward(rt, {
          v: t.v!,
          magnitude: t.magnitude!,
          norm: t.norm!,
          y: t.y!,
          bias: t.bias,
          accumulate: c.accumulate,
          subtractOne: c.subtractOne,
        }),
      reference: (r) => ({
        y: doraScaleRef(
          {
            v: r.v!,
            magnitude: r.magnitude!,
            norm: r.norm!,
            bias: r.bias,
            ...(c.accumulate ? { y0: Float64Array.from(x.start) } : {}),
          },
          c.subtractOne,
        ),
      }),
    });
  });

  it.each(cases)('backward at %j', async (c) => {
    const x = inputs(c);
    const range = c.range ?? 1;
    const shape = [c.rows, c.cols];
    await checkKernel(await testRuntime(), {
      name: `dora scale backward ${JSON.stringify(c)}`,
      inputs: { v: x.v, dy: x.dy, magnitude: x.magnitude, norm: x.norm },
      outputs: {
        scaled: { shape, tol: tol(range) },
        ...(c.subtractOne ? { scaledMinusOne: { shape, tol: tol(range) } } : {}),
        dm: { shape: [c.cols], tol: reducedTol(c), ...(c.accumulate ? { initial: x.startDm } : {}) },
      },
      launch: (rt, t) =>
        doraScaleBackward(rt, {
          dy: t.dy!,
          v: t.v!,
          magnitude: t.magnitude!,
          norm: t.norm!,
          scaled: t.scaled!,
          scaledMinusOne: t.scaledMinusOne,
          dm: t.dm!,
          accumulate: c.accumulate,
        }),
      reference: (r) => {
        const p = { v: r.v!, magnitude: r.magnitude!, norm: r.norm! };
        const { dv: scaled, dm } = doraScaleBackwardRef(p, r.dy!);
        const { dv: scaledMinusOne } = doraScaleBackwardRef(p, r.dy!, true);
        return {
          scaled,
          ...(c.subtractOne ? { scaledMinusOne } : {}),
          dm: c.accumulate ? dm.map((v, i) => v + (x.startDm[i] as number)) : dm,
        };
      },
    });
  });

  it.each([
    { count: 1, p: 0.5 },
    { count: 45 * 65, p: 0.1 },
    { count: 1001, p: 0 },
  ])('dropout add at %j', async ({ count, p }) => {
    const random = seededRandom(count + 5);
    const key = { seed: 77, step: 5, stream: 9 };
    const start = randomArray(random, count);
    await checkKernel(await testRuntime(), {
      name: `dropout add ${count} p=${p}`,
      inputs: { t: { shape: [count], data: randomArray(random, count) } },
      outputs: { out: { shape: [count], tol: { atol: 1e-7, rtol: 1e-6 }, initial: start } },
      launch: async (rt, t) => {
        const rng = createRngState(rt, key.seed);
        rng.setStep(key.step);
        return dropoutAdd(rt, { t: t.t!, out: t.out!, p, rng, stream: key.stream });
      },
      reference: (r) => ({ out: dropoutAddRef(Float64Array.from(start), r.t!, key, p) }),
    });
  });
});
