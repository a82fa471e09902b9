import { describe, expect, it } from 'vitest';
import { writeTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { matmul } from './matmul';
import { matmulRef } from './matmul.ref';
import { matmulSplitK, splitKPlan, splitKWorkspace } from './split-k';

interface Case {
  batch?: number;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  /** Broadcast B over the batch (a weight). */
  sharedB?: boolean;
  bias?: boolean;
  accumulate?: boolean;
  alpha?: number;
  scale?: number;
  seed?: number;
  /** B stored in half precision (a frozen weight). */
  halfB?: boolean;
  /** B quantized to NF4 (a frozen weight, as QLoRA stores it). */
  nf4B?: boolean;
  /** Through matmulSplitK, which must split this shape's K (its workspace poisoned with NaN first). */
  splitK?: boolean;
}

// f32 accumulation over K terms of size ~scale²: error grows like K·ε·scale².
const tolFor = (c: Case) => {
  const s = (c.scale ?? 1) ** 2;
  return { atol: 2e-6 * c.K * s, rtol: 1e-5 };
};

function checkMatmul(c: Case) {
  const batch = c.batch ?? 1;
  const random = seededRandom(c.seed ?? c.M * 7919 + c.N * 131 + c.K);
  const lead = batch > 1 ? [batch] : [];
  const aShape = [...lead, ...(c.transA ? [c.K, c.M] : [c.M, c.K])];
  const bShape = [...(c.sharedB ? [] : lead), ...(c.transB ? [c.N, c.K] : [c.K, c.N])];
  const outShape = [...lead, c.M, c.N];
  const scale = c.scale ?? 1;
  const inputs: Record<string, { shape: number[]; data: Float32Array; half?: boolean; nf4?: boolean }> = {
    a: {
      shape: aShape,
      data: randomArray(
        random,
        aShape.reduce((x, y) => x * y),
        scale,
      ),
    },
    b: {
      half: c.halfB,
      nf4: c.nf4B,
      shape: bShape,
      data: randomArray(
        random,
        bShape.reduce((x, y) => x * y),
        scale,
      ),
    },
  };
  if (c.bias) inputs.bias = { shape: [c.N], data: randomArray(random, c.N) };
  const initial = c.accumulate ? randomArray(random, batch * c.M * c.N) : undefined;
  return testRuntime().then((runtime) =>
    checkKernel(runtime, {
      name: `matmul ${JSON.stringify(c)}`,
      inputs,
      outputs: { out: { shape: outShape, tol: tolFor(c), ...(initial ? { initial } : {}) } },
      launch: async (rt, t) => {
        const args = {
          a: t.a!,
          b: t.b!,
          out: t.out!,
          transA: c.transA,
          transB: c.transB,
          alpha: c.alpha,
          bias: t.bias,
          accumulate: c.accumulate,
        };
        if (!c.splitK) return matmul(rt, args);
        const space = splitKWorkspace(rt);
        writeTensor(rt.device, space, new Float32Array(space.size).fill(Number.NaN));
        const dispatches = await matmulSplitK(rt, args);
        expect(dispatches.map((d) => d.label)).toEqual([
          expect.stringMatching(/K splits/),
          expect.stringMatching(/fold/),
        ]);
        return dispatches;
      },
      reference: (x) => ({
        out: matmulRef(x.a!, x.b!, {
          batch,
          M: c.M,
          N: c.N,
          K: c.K,
          transA: c.transA,
          transB: c.transB,
          strideA: batch > 1 ? c.M * c.K : 0,
          strideB: batch > 1 && !c.sharedB ? c.K * c.N : 0,
          alpha: c.alpha,
          bias: x.bias,
          accumulateInto: initial ? Float64Array.from(initial) : undefined,
        }),
      }),
    }),
  );
}

describe('matmul', () => {
  it.each<Case>([
    { M: 45, N: 65, K: 33 },
    { M: 1, N: 1, K: 1 },
    { M: 1, N: 37, K: 5 },
    { M: 29, N: 1, K: 70 },
    { M: 64, N: 128, K: 32 }, // tile multiples: the vec4 load path
    { M: 130, N: 67, K: 129 }, // several tiles in every direction, ragged edges
  ])('A·B at %j', async (c) => {
    await checkMatmul(c);
  });

  it.each<Case>([
    { M: 45, N: 65, K: 33, transB: true, bias: true }, // X·Wᵀ + b: the linear forward
    { M: 45, N: 33, K: 65 }, // dY·W: the linear dX
    { M: 65, N: 33, K: 45, transA: true }, // dYᵀ·X: the linear dW
    { M: 21, N: 19, K: 23, transA: true, transB: true },
    { M: 68, N: 36, K: 44, transA: true, transB: true }, // both transposed, vec4 path
    { M: 90, N: 37, K: 50, transA: true }, // 32-row tiles (3 pad M = 90 less than 2 of 64)
    { M: 28, N: 132, K: 64, transB: true, bias: true }, // 32-row tile, vec4 path, 3 column tiles
  ])('the products backprop needs at %j', async (c) => {
    await checkMatmul(c);
  });

  it.each<Case>([
    { batch: 3, M: 17, N: 9, K: 13 },
    { batch: 4, M: 45, N: 65, K: 33, transB: true, sharedB: true, bias: true },
    { batch: 2, M: 16, N: 20, K: 8, transA: true },
  ])('batched at %j', async (c) => {
    await checkMatmul(c);
  });

  // The reference multiplies the half-rounded B in float64, so only f32 accumulation error remains.
  it.each<Case>([
    { M: 45, N: 65, K: 33, transB: true, bias: true, halfB: true }, // the frozen linear forward
    { M: 45, N: 33, K: 65, halfB: true }, // its dX
    { M: 28, N: 132, K: 64, transB: true, halfB: true }, // the vec2<u32> load path, 32-row tile
    { M: 64, N: 128, K: 32, halfB: true }, // tile multiples, B contiguous along N
    { M: 29, N: 3, K: 71, transB: true, halfB: true }, // odd K: a word's halves split across rows
    { batch: 3, M: 17, N: 9, K: 13, transB: true, sharedB: true, halfB: true },
    { M: 33, N: 17, K: 40, scale: 1e-3, halfB: true },
  ])('B in half precision at %j', async (c) => {
    await checkMatmul(c);
  });

  // The reference multiplies B as dequantized on the host, so only f32 accumulation error remains; B's
  // blocks of 64 straddle its rows wherever a row is not a multiple of 64 long.
  it.each<Case>([
    { M: 45, N: 65, K: 33, transB: true, bias: true, nf4B: true }, // the frozen linear forward
    { M: 45, N: 33, K: 65, nf4B: true }, // its dX
    { M: 28, N: 132, K: 64, transB: true, nf4B: true }, // 4 codes to a load, 32-row tile
    { M: 64, N: 128, K: 36, nf4B: true }, // B contiguous along N, vec path
    { M: 29, N: 3, K: 71, transB: true, nf4B: true }, // a tail block padded, scalar path
    { M: 33, N: 17, K: 40, scale: 1e-3, nf4B: true },
  ])('B in NF4 at %j', async (c) => {
    await checkMatmul(c);
  });

  // Weight gradients: K is every token of the step, the output a small weight (LoRA's dA is r × C).
  it.each<Case>([
    { M: 5, N: 37, K: 1037, transA: true, splitK: true }, // LoRA's dA shape: 4 ranges, the last short
    { M: 37, N: 5, K: 700, transA: true, accumulate: true, alpha: 0.5, splitK: true }, // gradient accumulation
    { M: 70, N: 33, K: 4099, transA: true, splitK: true }, // 16 ranges, two row tiles
    { M: 9, N: 20, K: 600, transB: true, splitK: true }, // A contiguous along K
  ])('split along K at %j', async (c) => {
    await checkMatmul(c);
  });

  it('splits K only where the output launches few workgroups and K is long', () => {
    expect(splitKPlan(8, 576, 4096)).toEqual({ splits: 16, chunk: 256 }); // LoRA dA, SmolLM2, 4096 tokens
    expect(splitKPlan(576, 576, 4096)).toEqual({ splits: 4, chunk: 1024 }); // q_proj's dW: 81 tiles
    expect(splitKPlan(1024, 1024, 4096)).toBeUndefined(); // 256 tiles already
    expect(splitKPlan(8, 576, 300)).toBeUndefined(); // too short to split
    expect(splitKPlan(2048, 1024, 8192)).toBeUndefined(); // partials past the workspace
  });

  it('adds into the output and scales by alpha', async () => {
    await checkMatmul({ M: 45, N: 65, K: 33, accumulate: true, alpha: -0.75 });
  });

  it.each<Case>([
    { M: 33, N: 17, K: 40, scale: 1e3 },
    { M: 33, N: 17, K: 40, scale: 1e-3 },
  ])('extreme ranges at %j', async (c) => {
    await checkMatmul(c);
  });

  it('rejects mismatched shapes with a message naming them', async () => {
    const runtime = await testRuntime();
    const { createTensor } = await import('../../tensor');
    const a = createTensor(runtime.arena, 'x', [4, 5]);
    const b = createTensor(runtime.arena, 'w', [6, 7]);
    const out = createTensor(runtime.arena, 'y', [4, 7]);
    await expect(matmul(runtime, { a, b, out })).rejects.toThrow(
      /inner dimensions differ, 5 and 6.*x\[4, 5\]/,
    );
  });

  it('refuses a half-precision tensor anywhere but B, where a kernel would read its words as f32', async () => {
    const runtime = await testRuntime();
    const { createTensor } = await import('../../tensor');
    const a = createTensor(runtime.arena, 'x16', [4, 5], 'f16');
    const b = createTensor(runtime.arena, 'w', [5, 7]);
    const out = createTensor(runtime.arena, 'y', [4, 7]);
    await expect(matmul(runtime, { a, b, out })).rejects.toThrow(
      /binding 1 of kernel matmul reads f32, but x16 holds half-precision values/,
    );
  });

  it('refuses an NF4 tensor where a kernel reads f32, and a batched NF4 B', async () => {
    const runtime = await testRuntime();
    const { createTensor } = await import('../../tensor');
    const a = createTensor(runtime.arena, 'x4', [4, 5], 'nf4');
    const w = createTensor(runtime.arena, 'w', [5, 7]);
    const out = createTensor(runtime.arena, 'y', [2, 4, 7]);
    await expect(
      matmul(runtime, { a, b: w, out: createTensor(runtime.arena, 'y2', [4, 7]) }),
    ).rejects.toThrow(/binding 1 of kernel matmul cannot read x4, which holds 4-bit NF4 values/);
    const x = createTensor(runtime.arena, 'x', [2, 4, 5]);
    const batched = createTensor(runtime.arena, 'w4', [2, 5, 7], 'nf4');
    await expect(matmul(runtime, { a: x, b: batched, out })).rejects.toThrow(/an NF4 B must be 2-D/);
  });

  it('never hands a released half-precision buffer to an f32 tensor, and reuses it for halves', async () => {
    const runtime = await testRuntime();
    const { createTensor, releaseTensor } = await import('../../tensor');
    // 8 halves and 4 floats are both 16 bytes, of the same usage.
    const half = createTensor(runtime.arena, 'w16', [2, 4], 'f16');
    releaseTensor(runtime.arena, half);
    const a = createTensor(runtime.arena, 'x', [2, 2]);
    expect(a.buffer).not.toBe(half.buffer);
    const b = createTensor(runtime.arena, 'w', [2, 2]);
    const out = createTensor(runtime.arena, 'y', [2, 2]);
    await expect(matmul(runtime, { a, b, out })).resolves.toBeDefined();
    expect(createTensor(runtime.arena, 'w16 again', [2, 4], 'f16').buffer).toBe(half.buffer);
  });
});
