/** The half-precision and NF4 rows of the matmul microbenchmark check their output before they time it, as the others do. */
import { expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { kernelShapes } from './kernel-shapes';
import { benchMatmul } from './matmul-bench';

it('checks, then times, the matmul with B in half precision', async () => {
  const shape = kernelShapes(true).matmul.find((m) => m.halfB);
  if (!shape) throw new Error('The scaled shapes have no half-precision matmul.');
  const small = { ...shape, M: 37, N: 21, K: 45 };
  const timing = await benchMatmul(await testRuntime(), small, { targetMs: 5, maxReps: 2, samples: 32 });
  expect(timing.check.passed, timing.check.failure).toBe(true);
  expect(timing.gflops).toBeGreaterThan(0);
});

it('checks, then times, the matmul with B in NF4', async () => {
  const shape = kernelShapes(true).matmul.find((m) => m.nf4B);
  if (!shape) throw new Error('The scaled shapes have no NF4 matmul.');
  const small = { ...shape, M: 37, N: 21, K: 45 };
  const timing = await benchMatmul(await testRuntime(), small, { targetMs: 5, maxReps: 2, samples: 32 });
  expect(timing.check.passed, timing.check.failure).toBe(true);
  expect(timing.gflops).toBeGreaterThan(0);
});
