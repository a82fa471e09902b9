import { describe, expect, it } from 'vitest';
import { createTensor, releaseTensor, type Tensor, uploadTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { createRopeTable, rope } from './rope';
import { ropeBackwardRef, ropeRef } from './rope.ref';
import { type RopeConfig, ropeInvFreq } from './rope-frequencies';

interface Case {
  B: number;
  T: number;
  NH: number;
  D: number;
  theta: number;
  scaling?: RopeConfig['scaling'];
  offsets?: number[];
}

const llama3 = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 };

// The angle pos·inv_freq is rounded to f32 twice, as in HF (the table, then the product): up to
// 2⁻²³·angle radians, which moves an output by up to √2·|x| times that. Plus sin/cos and arithmetic.
function tolFor(c: Case) {
  const maxPosition = c.T - 1 + Math.max(0, ...(c.offsets ?? []));
  return { atol: 2e-6 + 2 ** -22 * maxPosition, rtol: 1e-5 };
}

async function checkRope(c: Case) {
  const runtime = await testRuntime();
  const config: RopeConfig = { headDim: c.D, theta: c.theta, scaling: c.scaling };
  const spec = { ...c, invFreq: ropeInvFreq(config) };
  const shape = [c.B, c.T, c.NH, c.D];
  const n = c.B * c.T * c.NH * c.D;
  const random = seededRandom(n + c.theta);
  const owned: Tensor[] = [createRopeTable(runtime, config)];
  const offsets = c.offsets && uploadTensor(runtime.arena, 'offsets', [c.B], Uint32Array.from(c.offsets));
  if (offsets) owned.push(offsets);
  const tol = tolFor(c);
  try {
    await checkKernel(runtime, {
      name: `rope ${JSON.stringify(c)}`,
      inputs: { x: { shape, data: randomArray(random, n) }, dy: { shape, data: randomArray(random, n) } },
      outputs: { y: { shape, tol }, dx: { shape, tol } },
      launch: async (rt, t) => [
        await rope(rt, { x: t.x!, out: t.y!, invFreq: owned[0]!, positionOffsets: offsets }),
        await rope(rt, {
          x: t.dy!,
          out: t.dx!,
          invFreq: owned[0]!,
          positionOffsets: offsets,
          backward: true,
        }),
      ],
      reference: (x) => ({ y: ropeRef(x.x!, spec), dx: ropeBackwardRef(x.dy!, spec) }),
    });
  } finally {
    for (const tensor of owned) releaseTensor(runtime.arena, tensor);
  }
}

describe('rope', () => {
  it.each<Case>([
    { B: 2, T: 7, NH: 3, D: 10, theta: 10000 }, // D/2 odd: the gather path, ragged last vec4
    { B: 1, T: 1, NH: 1, D: 2, theta: 10000 }, // one pair
    { B: 2, T: 7, NH: 3, D: 16, theta: 10000 }, // vec4 path, one partial chunk of heads
    { B: 1, T: 9, NH: 5, D: 8, theta: 500000 }, // vec4 path, two chunks of heads
    { B: 2, T: 5, NH: 2, D: 64, theta: 500000 },
    { B: 1, T: 5, NH: 4, D: 256, theta: 1000000 }, // Gemma 3's head width and global base
  ])('forward and backward at %j', async (c) => {
    await checkRope(c);
  });

  it.each<Case>([
    { B: 2, T: 7, NH: 3, D: 10, theta: 10000, offsets: [3, 1000] },
    { B: 2, T: 7, NH: 3, D: 16, theta: 500000, offsets: [0, 40] },
  ])('positions shifted per sequence at %j', async (c) => {
    await checkRope(c);
  });

  it.each<Case>([
    // D = 16 puts one slot in each band: 0-3 unchanged, 4 blended, 5-7 divided by 8.
    { B: 2, T: 7, NH: 3, D: 16, theta: 500000, scaling: llama3, offsets: [8190, 20000] },
    { B: 2, T: 3, NH: 2, D: 128, theta: 500000, scaling: llama3, offsets: [9000, 16380] },
    { B: 2, T: 7, NH: 3, D: 10, theta: 500000, scaling: llama3, offsets: [12345, 8192] },
  ])('Llama 3 scaling beyond the original 8192 positions at %j', async (c) => {
    await checkRope(c);
  });

  it('refuses odd head widths and mismatched tensors, naming them', async () => {
    const runtime = await testRuntime();
    const x = createTensor(runtime.arena, 'q', [1, 2, 3, 5]);
    const even = createTensor(runtime.arena, 'k', [1, 2, 3, 4]);
    const out = createTensor(runtime.arena, 'k_rot', [1, 2, 3, 4]);
    const table = createRopeTable(runtime, { headDim: 4, theta: 10000 });
    const wideTable = createRopeTable(runtime, { headDim: 6, theta: 10000 });
    try {
      await expect(rope(runtime, { x, out, invFreq: table })).rejects.toThrow(
        /q\[1, 2, 3, 5\].*even head dimension D ≥ 2, got D = 5/,
      );
      await expect(rope(runtime, { x: even, out: x, invFreq: table })).rejects.toThrow(
        /out must have the shape of x \(x k\[1, 2, 3, 4\], out q\[1, 2, 3, 5\]\)/,
      );
      await expect(rope(runtime, { x: even, out, invFreq: wideTable })).rejects.toThrow(
        /invFreq rope inv_freq\[3\] must be f32 \[D\/2\] = \[2\]/,
      );
      await expect(rope(runtime, { x: even, out, invFreq: table, positionOffsets: table })).rejects.toThrow(
        /positionOffsets .* must be u32 \[B\] = \[1\]/,
      );
    } finally {
      for (const t of [x, even, out, table, wideTable]) releaseTensor(runtime.arena, t);
    }
  });
});
