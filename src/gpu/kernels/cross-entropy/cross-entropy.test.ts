import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../runtime';
import { releaseTensor, type Tensor, uploadTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { crossEntropy, crossEntropyScale, ignoreIndex } from './cross-entropy';
import { crossEntropyBackwardRef, crossEntropyRef } from './cross-entropy.ref';

interface Case {
  N: number;
  V: number;
  /** Logits are uniform in [-range, range). */
  range?: number;
  /** Every k-th label is ignored; 1 ignores them all. */
  ignoreEvery?: number;
  inPlace?: boolean;
  /** Gemma 2's final soft-cap. */
  softcap?: number;
}

// loss = (max − target) + log(Σ exp): a few ulps of a per-lane sum folded by a 256-way tree.
const lossTol = { atol: 1e-5, rtol: 1e-5 };
// Each gradient element is one exp, times scale: a few ulps of p, absolute in units of scale.
const gradTol = (scale: number) => ({ atol: 1e-6 * scale, rtol: 1e-5 });

function labelsFor(random: () => number, { N, V, ignoreEvery }: Case): Int32Array {
  return Int32Array.from({ length: N }, (_, n) =>
    ignoreEvery && n % ignoreEvery === 0 ? ignoreIndex : Math.floor(random() * V),
  );
}

/** Uploads i32 labels, which the shared check (f32 inputs only) cannot. */
function withLabels(runtime: Runtime, labels: Int32Array) {
  const tensor = uploadTensor(runtime.arena, 'labels', [labels.length], labels);
  return { tensor, release: () => releaseTensor(runtime.arena, tensor) };
}

async function checkCrossEntropy(c: Case) {
  const random = seededRandom(c.N * 977 + c.V);
  const labels = labelsFor(random, c);
  const logits = randomArray(random, c.N * c.V, c.range ?? 4);
  const scale = crossEntropyScale(labels, c.V);
  const runtime = await testRuntime();
  const l = withLabels(runtime, labels);
  try {
    await checkKernel(runtime, {
      name: `cross-entropy ${JSON.stringify(c)}`,
      inputs: { logits: { shape: [c.N, c.V], data: logits } },
      outputs: {
        loss: { shape: [c.N], tol: lossTol },
        // In place, the gradient tensor starts out holding the logits.
        dlogits: { shape: [c.N, c.V], tol: gradTol(scale), ...(c.inPlace ? { initial: logits } : {}) },
      },
      launch: (rt, t) =>
        crossEntropy(rt, {
          logits: c.inPlace ? t.dlogits! : t.logits!,
          labels: l.tensor,
          loss: t.loss!,
          dlogits: t.dlogits!,
          scale,
          softcap: c.softcap,
        }),
      reference: (x) => ({
        loss: crossEntropyRef(x.logits!, labels, c.V, c.softcap),
        dlogits: crossEntropyBackwardRef(x.logits!, labels, c.V, scale, c.softcap),
      }),
    });
  } finally {
    l.release();
  }
}

describe('fused cross-entropy', () => {
  it.each<Case>([
    { N: 53, V: 1001, ignoreEvery: 7 }, // V odd and wider than a workgroup; 32 lanes per row
    { N: 45, V: 65 }, // 8 rows per workgroup, the last workgroup 5 rows short
    { N: 11, V: 3001, ignoreEvery: 4 }, // 128 lanes per row, 2 rows per workgroup
    { N: 3, V: 9001, ignoreEvery: 2 }, // 256 lanes: one row per workgroup, as a real vocabulary
    { N: 6, V: 1, ignoreEvery: 4 }, // softmax of one logit is 1: loss and gradient 0
    { N: 9, V: 37, ignoreEvery: 1 }, // every label ignored: scale 0, loss 0, gradient 0, no NaN
    { N: 20, V: 300, range: 1e4, ignoreEvery: 5 }, // extreme logits
    { N: 17, V: 1001, ignoreEvery: 3, inPlace: true },
    // Soft-capped (Gemma 2's 30, and a cap below the logits' range, where tanh bends most of them).
    { N: 13, V: 1001, ignoreEvery: 4, range: 40, softcap: 30, inPlace: true },
    { N: 9, V: 300, range: 8, softcap: 2 },
  ])('loss and gradient at %j', async (c) => {
    await checkCrossEntropy(c);
  });

  it('stays finite when one logit dominates by 2e4 or all are equal', async () => {
    const V = 257;
    const rows = [
      Array.from({ length: V }, () => 1e4), // uniform softmax at a large offset
      Array.from({ length: V }, (_, v) => (v === 3 ? 1e4 : -1e4)), // label on the dominant logit
      Array.from({ length: V }, (_, v) => (v === 3 ? 1e4 : -1e4)), // label far below it: loss 2e4
    ];
    const labels = Int32Array.from([5, 3, 200]);
    const logits = Float32Array.from(rows.flat());
    const scale = crossEntropyScale(labels, V);
    const runtime = await testRuntime();
    const l = withLabels(runtime, labels);
    try {
      await checkKernel(runtime, {
        name: 'cross-entropy extreme rows',
        inputs: { logits: { shape: [3, V], data: logits } },
        outputs: { loss: { shape: [3], tol: lossTol }, dlogits: { shape: [3, V], tol: gradTol(scale) } },
        launch: (rt, t) =>
          crossEntropy(rt, {
            logits: t.logits!,
            labels: l.tensor,
            loss: t.loss!,
            dlogits: t.dlogits!,
            scale,
          }),
        reference: (x) => ({
          loss: crossEntropyRef(x.logits!, labels, V),
          dlogits: crossEntropyBackwardRef(x.logits!, labels, V, scale),
        }),
      });
    } finally {
      l.release();
    }
  });

  // A batch of 60 rows whose rows [20, 45) are processed alone; untouched rows must keep their values.
  const [N, V, start, count] = [60, 129, 20, 25];
  const chunk = (rows: Float64Array, width: number) => rows.slice(start * width, (start + count) * width);

  function chunkSetup() {
    const random = seededRandom(4242);
    const labels = labelsFor(random, { N, V, ignoreEvery: 6 });
    const logits = randomArray(random, N * V, 4);
    const lossBefore = new Float32Array(N).fill(-7);
    const scale = crossEntropyScale(labels, V); // of the whole batch, as the mean loss needs
    return { labels, logits, lossBefore, scale };
  }

  it('processes a chunk of rows of a whole batch of logits, in place', async () => {
    const { labels, logits, lossBefore, scale } = chunkSetup();
    const runtime = await testRuntime();
    const l = withLabels(runtime, labels);
    try {
      await checkKernel(runtime, {
        name: 'cross-entropy chunk in place',
        inputs: { original: { shape: [N, V], data: logits } },
        outputs: {
          loss: { shape: [N], tol: lossTol, initial: lossBefore },
          logits: { shape: [N, V], tol: gradTol(scale), initial: logits },
        },
        launch: (rt, t) =>
          crossEntropy(rt, {
            logits: t.logits!,
            labels: l.tensor,
            loss: t.loss!,
            dlogits: t.logits!,
            scale,
            rows: { start, count },
          }),
        reference: (x) => {
          const rows = chunk(x.original!, V);
          const chunkLabels = labels.slice(start, start + count);
          const loss = Float64Array.from(lossBefore);
          loss.set(crossEntropyRef(rows, chunkLabels, V), start);
          const grads = Float64Array.from(x.original!);
          grads.set(crossEntropyBackwardRef(rows, chunkLabels, V, scale), start * V);
          return { loss, logits: grads };
        },
      });
    } finally {
      l.release();
    }
  });

  it('processes a chunk of logits against the whole batch of labels', async () => {
    const { labels, logits, lossBefore, scale } = chunkSetup();
    const chunkLogits = chunk(Float64Array.from(logits), V);
    const chunkLabels = labels.slice(start, start + count);
    const runtime = await testRuntime();
    const l = withLabels(runtime, labels);
    try {
      await checkKernel(runtime, {
        name: 'cross-entropy chunk of logits',
        inputs: { logits: { shape: [count, V], data: Float32Array.from(chunkLogits) } },
        outputs: {
          loss: { shape: [N], tol: lossTol, initial: lossBefore },
          dlogits: { shape: [count, V], tol: gradTol(scale) },
        },
        launch: (rt, t) =>
          crossEntropy(rt, {
            logits: t.logits!,
            labels: l.tensor,
            loss: t.loss!,
            dlogits: t.dlogits!,
            scale,
            rows: { start, count },
          }),
        reference: (x) => {
          const loss = Float64Array.from(lossBefore);
          loss.set(crossEntropyRef(x.logits!, chunkLabels, V), start);
          return { loss, dlogits: crossEntropyBackwardRef(x.logits!, chunkLabels, V, scale) };
        },
      });
    } finally {
      l.release();
    }
  });

  // A sequence objective's two passes (DPO): the loss alone over logits left intact, then the gradient
  // with each sequence's weight (7 rows a sequence; weights of both signs), over a chunk of the rows.
  it('writes the loss alone, leaving the logits, when asked for no gradient', async () => {
    const { labels, logits, lossBefore } = chunkSetup();
    const runtime = await testRuntime();
    const l = withLabels(runtime, labels);
    try {
      await checkKernel(runtime, {
        name: 'cross-entropy loss only',
        inputs: { original: { shape: [N, V], data: logits } },
        outputs: {
          loss: { shape: [N], tol: lossTol, initial: lossBefore },
          logits: { shape: [N, V], tol: { atol: 0, rtol: 0 }, initial: logits },
        },
        launch: (rt, t) =>
          crossEntropy(rt, {
            logits: t.logits!,
            labels: l.tensor,
            loss: t.loss!,
            dlogits: t.logits!,
            scale: 0.5,
            gradient: false,
          }),
        reference: (x) => ({ loss: crossEntropyRef(x.original!, labels, V), logits: x.original! }),
      });
    } finally {
      l.release();
    }
  });

  it('multiplies each row gradient by its sequence weight', async () => {
    const { labels, logits, lossBefore, scale } = chunkSetup();
    const weights = randomArray(seededRandom(77), N / 6, 3);
    const runtime = await testRuntime();
    const l = withLabels(runtime, labels);
    try {
      await checkKernel(runtime, {
        name: 'cross-entropy row scales',
        inputs: {
          logits: { shape: [count, V], data: Float32Array.from(chunk(Float64Array.from(logits), V)) },
          weights: { shape: [N / 6], data: weights },
        },
        outputs: {
          loss: { shape: [N], tol: lossTol, initial: lossBefore },
          dlogits: { shape: [count, V], tol: gradTol(3 * scale) },
        },
        launch: (rt, t) =>
          crossEntropy(rt, {
            logits: t.logits!,
            labels: l.tensor,
            loss: t.loss!,
            dlogits: t.dlogits!,
            scale,
            rows: { start, count },
            rowScales: { tensor: t.weights!, rowsPerScale: 6 },
          }),
        reference: (x) => {
          const rows = x.logits!;
          const chunkLabels = labels.slice(start, start + count);
          const loss = Float64Array.from(lossBefore);
          loss.set(crossEntropyRef(rows, chunkLabels, V), start);
          const weight = (n: number) => x.weights![Math.floor((start + n) / 6)] as number;
          return { loss, dlogits: crossEntropyBackwardRef(rows, chunkLabels, V, scale, undefined, weight) };
        },
      });
    } finally {
      l.release();
    }
  });

  it('rejects bad shapes and label types, naming the tensors', async () => {
    const runtime = await testRuntime();
    const made: Tensor[] = [];
    const make = (label: string, shape: number[], data: Float32Array | Int32Array) => {
      const t = uploadTensor(runtime.arena, label, shape, data);
      made.push(t);
      return t;
    };
    const logits = make('logits', [4, 10], new Float32Array(40));
    const labels = make('labels', [4], new Int32Array(4));
    const loss = make('loss', [4], new Float32Array(4));
    const floatLabels = make('y', [4], new Float32Array(4));
    const args = { logits, labels, loss, dlogits: logits, scale: 0.25 };
    await expect(crossEntropy(runtime, { ...args, labels: floatLabels })).rejects.toThrow(
      /labels must be i32/,
    );
    await expect(crossEntropy(runtime, { ...args, rows: { start: 2, count: 3 } })).rejects.toThrow(
      /rows \[2, 5\) must lie within the 4 labels/,
    );
    await expect(
      crossEntropy(runtime, {
        ...args,
        rows: { start: 0, count: 3 },
        logits: make('z', [2, 10], new Float32Array(20)),
      }),
    ).rejects.toThrow(/logits must have 4 rows \(the batch\) or 3 \(the chunk\), not 2.*z\[2, 10\]/);
    for (const t of made) releaseTensor(runtime.arena, t);
  });
});
