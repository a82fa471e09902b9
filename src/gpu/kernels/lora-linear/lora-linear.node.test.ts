/**
 * The fused LoRA gradients against an independent autograd: tfjs on its CPU backend.
 * tfjs differentiates y = x·Wᵀ + b + s·((x ⊙ m)·Aᵀ)·Bᵀ with the mask m from the same counter-based
 * generator; nothing of our backward code is shared with it.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { submitDispatches } from '../../dispatch';
import { createTensor, downloadTensor, uploadTensor } from '../../tensor';
import { compareToReference } from '../../testing/compare';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { dropoutMask } from '../dropout/dropout.ref';
import { createRngState } from '../dropout/rng-state';
import { type LoraConfig, loraLinearBackward, loraLinearForward, loraScale } from './lora-linear';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const cases: (LoraConfig & { M: number; IN: number; OUT: number })[] = [
  { M: 45, IN: 65, OUT: 33, rank: 8, alpha: 16, dropout: 0.3 },
  { M: 13, IN: 31, OUT: 9, rank: 3, alpha: 5, rsLora: true },
];

describe('fused LoRA gradients against tfjs autograd', () => {
  it.each(cases)('dx, dA and dB at %j', async (c) => {
    const runtime = await testRuntime();
    const random = seededRandom(99 + c.M);
    const data = {
      x: randomArray(random, c.M * c.IN),
      w: randomArray(random, c.OUT * c.IN, 0.5),
      bias: randomArray(random, c.OUT),
      a: randomArray(random, c.rank * c.IN, 0.5),
      b: randomArray(random, c.OUT * c.rank, 0.5),
      dy: randomArray(random, c.M * c.OUT),
    };
    const key = { seed: 42, step: 3, stream: 11 };
    const mask = c.dropout ? dropoutMask(key, c.M * c.IN, c.dropout) : new Float64Array(c.M * c.IN).fill(1);
    const s = loraScale(c);

    const x = tf.tensor2d(data.x, [c.M, c.IN]);
    const w = tf.tensor2d(data.w, [c.OUT, c.IN]);
    const bias = tf.tensor1d(data.bias);
    const m = tf.tensor2d(Float32Array.from(mask), [c.M, c.IN]);
    const dy = tf.tensor2d(data.dy, [c.M, c.OUT]);
    const forward = (xv: tf.Tensor, av: tf.Tensor, bv: tf.Tensor) =>
      tf
        .matMul(xv, w, false, true)
        .add(bias)
        .add(tf.matMul(tf.matMul(xv.mul(m), av, false, true), bv, false, true).mul(s));
    const [gx, ga, gb] = tf.grads(forward)(
      [x, tf.tensor2d(data.a, [c.rank, c.IN]), tf.tensor2d(data.b, [c.OUT, c.rank])],
      dy,
    ) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const want = { dx: await gx.data(), dA: await ga.data(), dB: await gb.data() };

    const t = {
      x: uploadTensor(runtime.arena, 'x', [c.M, c.IN], data.x),
      w: uploadTensor(runtime.arena, 'w', [c.OUT, c.IN], data.w),
      bias: uploadTensor(runtime.arena, 'bias', [c.OUT], data.bias),
      a: uploadTensor(runtime.arena, 'a', [c.rank, c.IN], data.a),
      b: uploadTensor(runtime.arena, 'b', [c.OUT, c.rank], data.b),
      dy: uploadTensor(runtime.arena, 'dy', [c.M, c.OUT], data.dy),
      y: createTensor(runtime.arena, 'y', [c.M, c.OUT]),
      u: createTensor(runtime.arena, 'u', [c.M, c.rank]),
      du: createTensor(runtime.arena, 'du', [c.M, c.rank]),
      dx: createTensor(runtime.arena, 'dx', [c.M, c.IN]),
      dA: createTensor(runtime.arena, 'dA', [c.rank, c.IN]),
      dB: createTensor(runtime.arena, 'dB', [c.OUT, c.rank]),
    };
    const rng = createRngState(runtime, key.seed);
    rng.setStep(key.step);
    const layer = {
      weight: t.w,
      bias: t.bias,
      loraA: t.a,
      loraB: t.b,
      config: c,
      rng,
      stream: key.stream,
      label: 'l',
    };
    submitDispatches(runtime, [
      ...(await loraLinearForward(runtime, layer, t)),
      ...(await loraLinearBackward(runtime, layer, t)),
    ]);
    for (const name of ['dx', 'dA', 'dB'] as const) {
      const got = await downloadTensor(runtime.arena, t[name]);
      const comparison = compareToReference(name, got, want[name], { atol: 5e-4, rtol: 2e-4 });
      expect(comparison.firstMismatches, name).toEqual([]);
      expect(comparison.ok).toBe(true);
    }
  });
});
