/**
 * A dedicated worker that acquires its own WebGPU device and runs one kernel through the shared check,
 * so tests can prove the runtime works off the main thread, where training will run.
 */
import { acquireDevice } from '../device/acquire-device';
import { matmul } from '../kernels/matmul/matmul';
import { matmulRef } from '../kernels/matmul/matmul.ref';
import { createRuntime } from '../runtime';
import type { Tensor } from '../tensor';
import { checkKernel } from './check-kernel';
import { randomArray, seededRandom } from './random';

export interface WorkerCheckResult {
  ok: boolean;
  vendor?: string;
  maxAbsDiff?: number;
  error?: string;
}

async function run(): Promise<WorkerCheckResult> {
  const gpu = await acquireDevice({ label: 'worker' });
  const runtime = createRuntime(gpu);
  const [M, N, K] = [45, 65, 33];
  const random = seededRandom(11);
  const [result] = await checkKernel(runtime, {
    name: 'matmul in a worker',
    inputs: {
      a: { shape: [M, K], data: randomArray(random, M * K) },
      b: { shape: [N, K], data: randomArray(random, N * K) },
    },
    outputs: { out: { shape: [M, N], tol: { atol: 1e-4, rtol: 1e-5 } } },
    launch: (rt, t) => {
      const { a, b, out } = t as Record<'a' | 'b' | 'out', Tensor>;
      return matmul(rt, { a, b, out, transB: true });
    },
    reference: (x) => {
      const { a, b } = x as Record<'a' | 'b', Float64Array>;
      return { out: matmulRef(a, b, { batch: 1, M, N, K, transB: true, strideA: 0, strideB: 0 }) };
    },
  });
  gpu.destroy();
  return { ok: true, vendor: gpu.report.vendor, maxAbsDiff: result?.maxAbsDiff };
}

run().then(
  (result) => postMessage(result),
  (error: unknown) => postMessage({ ok: false, error: String(error) } satisfies WorkerCheckResult),
);
