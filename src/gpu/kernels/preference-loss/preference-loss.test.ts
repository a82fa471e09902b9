import { describe, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { preferenceLoss } from './preference-loss';
import { preferenceLossRef } from './preference-loss.ref';

interface Case {
  B: number;
  T: number;
  /** Per-token losses in [0, 2·range): margins of about range·√T nats. */
  range?: number;
  beta?: number;
}

async function checkPreferenceLoss({ B, T, range = 2, beta = 0.1 }: Case) {
  const random = seededRandom(B * 131 + T);
  const loss = randomArray(random, 2 * B * T, range).map((x) => x + range);
  const reference = randomArray(random, 2 * B, range * T);
  // Every third pair is padding (weight 0), the rest share the mean.
  const weight = Float32Array.from({ length: B }, (_, p) => (p % 3 === 2 ? 0 : 1 / B));
  const runtime = await testRuntime();
  await checkKernel(runtime, {
    name: `preference loss ${JSON.stringify({ B, T, range, beta })}`,
    inputs: {
      loss: { shape: [2 * B * T], data: loss },
      reference: { shape: [2 * B], data: reference },
      weight: { shape: [B], data: weight },
    },
    outputs: {
      // A fixed tree's sum of T float32 values: a few ulps of the sum of magnitudes.
      logp: { shape: [2 * B], tol: { atol: 1e-5 * range * T, rtol: 1e-5 } },
      // softplus of β·δ, δ carrying logp's error times β.
      pairLoss: { shape: [B], tol: { atol: 1e-5 * beta * range * T, rtol: 1e-4 } },
      rowScales: { shape: [2 * B], tol: { atol: 1e-6 * beta * range * T, rtol: 1e-4 } },
    },
    launch: (rt, t) =>
      preferenceLoss(rt, {
        loss: t.loss!,
        reference: t.reference!,
        weight: t.weight!,
        logp: t.logp!,
        pairLoss: t.pairLoss!,
        rowScales: t.rowScales!,
        beta,
      }),
    reference: (x) => preferenceLossRef(x.loss!, x.reference!, x.weight!, beta),
  });
}

describe('DPO preference loss', () => {
  it.each<Case>([
    { B: 1, T: 1 },
    { B: 5, T: 37 }, // T below the 64 lanes
    { B: 3, T: 203 }, // each lane sums several tokens
    { B: 7, T: 9, range: 300, beta: 2 }, // |β·δ| in the thousands: softplus and σ saturate
  ])('matches float64 at %j', async (c) => {
    await checkPreferenceLoss(c);
  });
});
