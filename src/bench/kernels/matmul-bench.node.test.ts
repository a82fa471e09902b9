/** The half-precision and NF4 rows of the matmul microbenchmark check their output before they time it, as the others do. */
import { expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { kernelShapes } from './kernel-shapes';
import { benchMatmul } from './matmul-bench';

it.each(['halfB', 'nf4B'] as const)('checks, then times, the matmul with B stored as %s', async (storage) => {
  const shape = kernelShapes(true).matmul.find((m) => m[storage]);
  if (!shape) throw new Error(`The scaled shapes have no ${storage} matmul.`);
  const small = { ...shape, M: 37, N: 21, K: 45 };
  const timing = await benchMatmul(await testRuntime(), small, { targetMs: 5, maxReps: 2, samples: 32 });
  expect(timing.check.passed, timing.check.failure).toBe(true);
  expect(timing.gflops).toBeGreaterThan(0);
});
