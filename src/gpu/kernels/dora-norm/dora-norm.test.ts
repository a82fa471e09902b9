import { describe, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { doraNorm } from './dora-norm';
import { doraNormRef } from './dora-norm.ref';

interface Case {
  OUT: number;
  IN: number;
  r: number;
  scale: number;
  layout: 'out-in' | 'in-out';
  /** Scale of W's entries (extreme ranges). */
  range?: number;
  /** B = 0, as at initialisation: the norm is ‖W‖ row by row. */
  zeroB?: boolean;
  /** W kept in half precision (a frozen base weight); the reference sees W as stored. */
  halfW?: boolean;
  /** W quantized to NF4 (a frozen base weight, as QLoRA stores it); the reference sees W as stored. */
  nf4W?: boolean;
}

const cases: Case[] = [
  { OUT: 45, IN: 65, r: 8, scale: 2, layout: 'out-in' },
  { OUT: 45, IN: 65, r: 8, scale: 2, layout: 'in-out' },
  { OUT: 1, IN: 1, r: 1, scale: 1, layout: 'out-in' },
  { OUT: 1, IN: 1, r: 1, scale: 1, layout: 'in-out' },
  { OUT: 33, IN: 17, r: 19, scale: 0.5, layout: 'in-out' },
  { OUT: 96, IN: 32, r: 4, scale: 4, layout: 'out-in', zeroB: true },
  { OUT: 20, IN: 100, r: 3, scale: 1.5, layout: 'in-out', range: 1e3 },
  { OUT: 17, IN: 48, r: 16, scale: 3, layout: 'out-in', range: 1e-3 },
  { OUT: 45, IN: 65, r: 8, scale: 2, layout: 'out-in', halfW: true },
  { OUT: 33, IN: 17, r: 19, scale: 0.5, layout: 'in-out', halfW: true },
  { OUT: 45, IN: 65, r: 8, scale: 2, layout: 'out-in', nf4W: true },
  { OUT: 33, IN: 17, r: 19, scale: 0.5, layout: 'in-out', nf4W: true },
];

describe('DoRA weight norm', () => {
  it.each(cases)('%j', async (c) => {
    const random = seededRandom(c.OUT * 131 + c.IN * 7 + c.r);
    const range = c.range ?? 1;
    const wShape = c.layout === 'out-in' ? [c.OUT, c.IN] : [c.IN, c.OUT];
    await checkKernel(await testRuntime(), {
      name: `dora norm ${JSON.stringify(c)}`,
      inputs: {
        w: { shape: wShape, data: randomArray(random, c.OUT * c.IN, range), half: c.halfW, nf4: c.nf4W },
        a: { shape: [c.r, c.IN], data: randomArray(random, c.r * c.IN, range / 4) },
        b: {
          shape: [c.OUT, c.r],
          data: c.zeroB ? new Float32Array(c.OUT * c.r) : randomArray(random, c.OUT * c.r, 0.5),
        },
      },
      // A sum of IN squares and a square root, each in f32: relative error ~ IN·2⁻²⁴; B·A adds r terms.
      outputs: { norm: { shape: [c.OUT], tol: { atol: 1e-30, rtol: 2e-6 * Math.sqrt(c.IN + c.r) } } },
      launch: (rt, t) =>
        doraNorm(rt, {
          weight: t.w!,
          weightLayout: c.layout,
          loraA: t.a!,
          loraB: t.b!,
          scale: c.scale,
          norm: t.norm!,
        }),
      reference: (x) => ({ norm: doraNormRef(x.w!, x.a!, x.b!, c) }),
    });
  });
});
