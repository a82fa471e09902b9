import { describe, it } from 'vitest';
import { releaseTensor, uploadTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { type PreferenceLossType, preferenceLoss } from './preference-loss';
import { preferenceLossRef } from './preference-loss.ref';

interface Case {
  B: number;
  T: number;
  /** Per-token losses in [0, 2·range): margins of about range·√T nats. */
  range?: number;
  beta?: number;
  lossType?: PreferenceLossType;
}

async function checkPreferenceLoss({ B, T, range = 2, beta = 0.1, lossType = 'sigmoid' }: Case) {
  const random = seededRandom(B * 131 + T);
  // Each sequence's labels end after a random length (padding -100), whose loss is 0, as the step writes it.
  const labels = new Int32Array(2 * B * T);
  const loss = new Float32Array(2 * B * T);
  for (let s = 0; s < 2 * B; s++) {
    const length = Math.floor(random() * (T + 1));
    for (let t = 0; t < T; t++) {
      labels[s * T + t] = t < length ? 7 : -100;
      loss[s * T + t] = t < length ? 2 * range * random() : 0;
    }
  }
  const counts = Array.from({ length: 2 * B }, (_, s) =>
    labels.subarray(s * T, (s + 1) * T).reduce((n, l) => n + (l >= 0 ? 1 : 0), 0),
  );
  const reference = randomArray(random, 2 * B, range * T);
  // Every third pair is padding (weight 0), the rest share the mean.
  const weight = Float32Array.from({ length: B }, (_, p) => (p % 3 === 2 ? 0 : 1 / B));
  const runtime = await testRuntime();
  const labelTensor = uploadTensor(runtime.arena, 'labels', [2 * B * T], labels);
  // IPO divides by a sequence's length, so its gradient is on the scale of one token's.
  const scale = lossType === 'ipo' ? range : beta * range * T;
  try {
    await checkKernel(runtime, {
      name: `preference loss ${JSON.stringify({ B, T, range, beta, lossType })}`,
      inputs: {
        loss: { shape: [2 * B * T], data: loss },
        reference: { shape: [2 * B], data: reference },
        weight: { shape: [B], data: weight },
      },
      outputs: {
        // A fixed tree's sum of T float32 values: a few ulps of the sum of magnitudes.
        logp: { shape: [2 * B], tol: { atol: 1e-5 * range * T, rtol: 1e-5 } },
        pairLoss: { shape: [B], tol: { atol: 1e-5 * scale * (lossType === 'ipo' ? scale : 1), rtol: 1e-4 } },
        rowScales: { shape: [2 * B], tol: { atol: 1e-6 * scale, rtol: 1e-4 } },
      },
      launch: (rt, t) =>
        preferenceLoss(rt, {
          loss: t.loss!,
          labels: labelTensor,
          reference: t.reference!,
          weight: t.weight!,
          logp: t.logp!,
          pairLoss: t.pairLoss!,
          rowScales: t.rowScales!,
          beta,
          lossType,
        }),
      reference: (x) => preferenceLossRef(x.loss!, x.reference!, x.weight!, beta, lossType, counts),
    });
  } finally {
    releaseTensor(runtime.arena, labelTensor);
  }
}

describe('DPO preference loss', () => {
  it.each<Case>([
    { B: 1, T: 1 },
    { B: 5, T: 37 }, // T below the 64 lanes
    { B: 3, T: 203 }, // each lane sums several tokens
    { B: 7, T: 9, range: 300, beta: 2 }, // |β·δ| in the thousands: softplus and σ saturate
    { B: 6, T: 45, lossType: 'hinge', beta: 0.05 }, // pairs on both sides of the margin
    { B: 5, T: 70, lossType: 'ipo' }, // per-token ratios; empty sequences count as 1
  ])('matches float64 at %j', async (c) => {
    await checkPreferenceLoss(c);
  });
});
