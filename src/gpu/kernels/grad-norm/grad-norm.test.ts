import { describe, expect, it } from 'vitest';
import { releaseDispatches, submitDispatches } from '../../dispatch';
import { downloadTensor, releaseTensor, uploadTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { createClipState, gradNorm, gradNormSlots } from './grad-norm';
import { clipStateRef, gradNormRef } from './grad-norm.ref';

// f32 sums of squares folded in trees: relative error of a few ulps times log2(terms).
const tol = { atol: 1e-6, rtol: 1e-5 };

// Odd sizes around vec4 and workgroup boundaries, a 1-element tensor, and one past 32768 elements
// (several workgroups per tensor).
const oddSizes = [1, 3, 45 * 65, 7, 32_771, 1000, 5, 33, 257, 1, 2, 130, 64, 9, 1023];

interface Case {
  sizes: number[];
  maxNorm: number;
  scale?: number;
  maxGroupsPerTensor?: number;
}

async function checkGradNorm(c: Case) {
  const random = seededRandom(c.sizes.length * 31 + c.sizes[0]!);
  const inputs = Object.fromEntries(
    c.sizes.map((n, i) => [`g${i}`, { shape: [n], data: randomArray(random, n, c.scale ?? 1) }]),
  );
  const names = Object.keys(inputs);
  return checkKernel(await testRuntime(), {
    name: `grad norm ${JSON.stringify({ ...c, sizes: c.sizes.length })}`,
    inputs,
    outputs: { clip: { shape: [4], tol } },
    launch: (rt, t) =>
      gradNorm(rt, {
        grads: names.map((n) => t[n]!),
        clipState: t.clip!,
        maxNorm: c.maxNorm,
        maxGroupsPerTensor: c.maxGroupsPerTensor,
      }),
    reference: (x) => ({
      clip: clipStateRef(
        names.map((n) => x[n]!),
        c.maxNorm,
      ),
    }),
  });
}

describe('global gradient norm and clip coefficient', () => {
  const norm = (sizes: number[], scale = 1) => {
    const random = seededRandom(sizes.length * 31 + sizes[0]!);
    return gradNormRef(
      sizes.map((n) => Float64Array.from(randomArray(random, n, scale))),
      0,
    ).norm;
  };

  it('over 15 tensors of odd sizes, without clipping (maxNorm above the norm)', async () => {
    expect(norm(oddSizes)).toBeLessThan(1000);
    await checkGradNorm({ sizes: oddSizes, maxNorm: 1000 });
  });

  it('over 15 tensors of odd sizes, clipping (maxNorm below the norm)', async () => {
    expect(norm(oddSizes)).toBeGreaterThan(1);
    const [result] = await checkGradNorm({ sizes: oddSizes, maxNorm: 1 });
    expect(result?.ok).toBe(true);
  });

  it('with maxNorm 0: the norm, and coefficient 1', async () => {
    await checkGradNorm({ sizes: oddSizes, maxNorm: 0 });
  });

  it.each([
    { sizes: [1], maxNorm: 0.25 },
    { sizes: Array.from({ length: gradNormSlots }, (_, i) => 11 + i), maxNorm: 1 },
    { sizes: Array.from({ length: gradNormSlots + 1 }, (_, i) => 11 + i), maxNorm: 1 },
    // Two workgroups per tensor at most: each thread strides through several vec4s.
    { sizes: [32_768 * 3 + 1, 5, 70_001], maxNorm: 10, maxGroupsPerTensor: 2 },
    { sizes: [45, 65, 1], maxNorm: 1e3, scale: 1e3 },
    { sizes: [45, 65, 1], maxNorm: 1e-4, scale: 1e-3 },
  ])('at %j', async (c) => {
    await checkGradNorm(c);
  });

  it('is bitwise reproducible and ignores NaN in buffer padding', async () => {
    const runtime = await testRuntime();
    const random = seededRandom(9);
    // A 5-element tensor in a 16-byte-padded buffer; poison the padding through a larger view first.
    const padded = randomArray(random, 8);
    padded.fill(Number.NaN, 5);
    const g = uploadTensor(runtime.arena, 'g', [8], padded);
    const view = { ...g, shape: [5], size: 5 };
    const others = [uploadTensor(runtime.arena, 'h', [4097], randomArray(random, 4097))];
    const clip = createClipState(runtime);
    const results: Float32Array[] = [];
    for (let run = 0; run < 2; run++) {
      const dispatches = await gradNorm(runtime, { grads: [view, ...others], clipState: clip, maxNorm: 1 });
      submitDispatches(runtime, dispatches);
      results.push(await downloadTensor(runtime.arena, clip));
      releaseDispatches(runtime, dispatches);
    }
    expect(Number.isFinite(results[0]![0])).toBe(true);
    expect([...results[1]!]).toEqual([...results[0]!]);
    for (const t of [g, ...others, clip]) releaseTensor(runtime.arena, t);
  });

  it('rejects bad arguments with messages naming them', async () => {
    const runtime = await testRuntime();
    const g = uploadTensor(runtime.arena, 'wte.grad', [3], new Float32Array(3));
    const clip = createClipState(runtime);
    await expect(gradNorm(runtime, { grads: [], clipState: clip, maxNorm: 1 })).rejects.toThrow(
      /no gradient/,
    );
    await expect(gradNorm(runtime, { grads: [g], clipState: g, maxNorm: 1 })).rejects.toThrow(
      /clipState wte\.grad\[3\] must be a \[4\] f32 tensor/,
    );
    await expect(gradNorm(runtime, { grads: [g], clipState: clip, maxNorm: -1 })).rejects.toThrow(/maxNorm/);
    releaseTensor(runtime.arena, g);
    releaseTensor(runtime.arena, clip);
  });
});
