import { describe, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { product, randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { scaleColumns, scaleColumnsBackward } from './scale-columns';
import { scaleColumnsBackwardRef, scaleColumnsRef } from './scale-columns.ref';

// One f32 multiply is correctly rounded; adding into a starting value rounds once more, and may cancel.
const exact = { atol: 0, rtol: 2 ** -24 };
const added = { atol: 1e-7, rtol: 2 ** -23 };
// dl sums `rows` products: the tolerance grows with it.
const reduced = (rows: number) => ({ atol: 1e-6 * rows, rtol: 1e-5 });

const addInto = (initial: Float32Array, v: Float64Array) => v.map((x, i) => x + (initial[i] as number));

describe('scale columns, forward', () => {
  it.each([
    { shape: [45, 65] },
    { shape: [1, 1] },
    { shape: [3, 5, 7] },
    { shape: [1000, 3] },
    { shape: [8, 64] },
    { shape: [6, 9], xScale: 1e4, lScale: 1e-3 },
    { shape: [7, 33], accumulate: true },
    { shape: [45, 65], inPlace: true },
    { shape: [1, 1], inPlace: true },
  ])('%j', async ({ shape, xScale, lScale, accumulate, inPlace }) => {
    const count = product(shape);
    const cols = shape.at(-1) as number;
    const rows = count / cols;
    const random = seededRandom(count + cols);
    const x = randomArray(random, count, xScale);
    const scale = randomArray(random, cols, lScale);
    const initial = accumulate ? randomArray(random, count) : inPlace ? x : undefined;
    await checkKernel(await testRuntime(), {
      name: `scale columns [${shape.join(', ')}]`,
      inputs: {
        ...(inPlace ? {} : { x: { shape, data: x } }),
        scale: { shape: [cols, 1], data: scale },
      },
      outputs: { out: { shape, tol: accumulate ? added : exact, ...(initial ? { initial } : {}) } },
      launch: (rt, t) =>
        inPlace
          ? scaleColumns(rt, { scale: t.scale!, out: t.out!, inPlace: true })
          : scaleColumns(rt, { x: t.x!, scale: t.scale!, out: t.out!, accumulate }),
      reference: (v) => {
        const y = scaleColumnsRef(Float64Array.from(x), v.scale!, rows, cols);
        return { out: accumulate ? addInto(initial as Float32Array, y) : y };
      },
    });
  });
});

describe('scale columns, backward', () => {
  it.each([
    { rows: 45, cols: 65 },
    { rows: 1, cols: 1 },
    { rows: 100, cols: 33, accumulateDx: true, accumulateScale: true },
    { rows: 9, cols: 5, noDx: true },
  ])('%j', async ({ rows, cols, accumulateDx, accumulateScale, noDx }) => {
    const random = seededRandom(rows * cols + 7);
    const x = randomArray(random, rows * cols);
    const dy = randomArray(random, rows * cols);
    const scale = randomArray(random, cols);
    const dxStart = accumulateDx ? randomArray(random, rows * cols) : undefined;
    const dlStart = accumulateScale ? randomArray(random, cols) : undefined;
    await checkKernel(await testRuntime(), {
      name: `scale columns backward ${rows}x${cols}`,
      inputs: {
        x: { shape: [rows, cols], data: x },
        dy: { shape: [rows, cols], data: dy },
        scale: { shape: [1, cols], data: scale },
      },
      outputs: {
        ...(noDx
          ? {}
          : {
              dx: {
                shape: [rows, cols],
                tol: dxStart ? added : exact,
                ...(dxStart ? { initial: dxStart } : {}),
              },
            }),
        dScale: { shape: [cols], tol: reduced(rows), ...(dlStart ? { initial: dlStart } : {}) },
      },
      launch: (rt, t) =>
        scaleColumnsBackward(rt, {
          x: t.x!,
          scale: t.scale!,
          dy: t.dy!,
          ...(noDx ? {} : { dx: t.dx! }),
          dScale: t.dScale!,
          accumulateDx,
          accumulateScale,
        }),
      reference: (v) => {
        const { dx, dl } = scaleColumnsBackwardRef(v.x!, v.scale!, v.dy!, rows, cols);
        return {
          dx: dxStart ? addInto(dxStart, dx) : dx,
          dScale: dlStart ? addInto(dlStart, dl) : dl,
        };
      },
    });
  });
});
