import { describe, expect, it } from 'vitest';
import { createRngState } from './kernels/dropout/rng-state';
import { loraLinearBackward, loraLinearForward } from './kernels/lora-linear/lora-linear';
import { loraBackwardRef, loraForwardRef } from './kernels/lora-linear/lora-linear.ref';
import { RecordedStep } from './recorded-step';
import { createTensor, downloadTensor, uploadTensor, writeTensor } from './tensor';
import { compareToReference } from './testing/compare';
import { randomArray, seededRandom } from './testing/random';
import { testRuntime } from './testing/test-runtime';

describe('recorded step', () => {
  it('replays a LoRA forward and backward, with a fresh dropout mask each step', async () => {
    const runtime = await testRuntime();
    const [M, IN, OUT, r] = [21, 19, 17, 4];
    const config = { rank: r, alpha: 8, dropout: 0.3 };
    const random = seededRandom(3);
    const data = {
      x: randomArray(random, M * IN),
      w: randomArray(random, OUT * IN),
      a: randomArray(random, r * IN),
      b: randomArray(random, OUT * r),
      dy: randomArray(random, M * OUT),
    };
    const t = {
      x: uploadTensor(runtime.arena, 'x', [M, IN], data.x),
      w: uploadTensor(runtime.arena, 'w', [OUT, IN], data.w),
      a: uploadTensor(runtime.arena, 'a', [r, IN], data.a),
      b: uploadTensor(runtime.arena, 'b', [OUT, r], data.b),
      dy: uploadTensor(runtime.arena, 'dy', [M, OUT], data.dy),
      y: createTensor(runtime.arena, 'y', [M, OUT]),
      u: createTensor(runtime.arena, 'u', [M, r]),
      du: createTensor(runtime.arena, 'du', [M, r]),
      dx: createTensor(runtime.arena, 'dx', [M, IN]),
      dA: createTensor(runtime.arena, 'dA', [r, IN]),
      dB: createTensor(runtime.arena, 'dB', [OUT, r]),
    };
    const rng = createRngState(runtime, 2024);
    const layer = { weight: t.w, loraA: t.a, loraB: t.b, config, rng, stream: 1, label: 'q_proj' };
    const step = new RecordedStep(runtime, 'lora step', [
      ...(await loraLinearForward(runtime, layer, t)),
      ...(await loraLinearBackward(runtime, layer, t)),
    ]);
    expect(step.dispatchCount).toBe(6);

    const params = {
      x: Float64Array.from(data.x),
      w: Float64Array.from(data.w),
      a: Float64Array.from(data.a),
      b: Float64Array.from(data.b),
    };
    const seen: Float32Array[] = [];
    for (const stepNumber of [1, 2]) {
      writeTensor(runtime.device, t.dx, new Float32Array(M * IN).fill(Number.NaN));
      rng.setStep(stepNumber);
      step.replay();
      const shapes = {
        M,
        IN,
        OUT,
        r,
        scale: 2,
        dropout: { p: 0.3, key: { seed: 2024, step: stepNumber, stream: 1 } },
      };
      const want = {
        ...loraForwardRef(params, shapes),
        ...loraBackwardRef(params, shapes, Float64Array.from(data.dy)),
      };
      for (const name of ['y', 'dx', 'dA', 'dB'] as const) {
        const got = await downloadTensor(runtime.arena, t[name]);
        const result = compareToReference(name, got, want[name], { atol: 3e-4, rtol: 1e-4 });
        expect(result.firstMismatches, `${name} at step ${stepNumber}`).toEqual([]);
        if (name === 'dx') seen.push(got);
      }
    }
    expect(seen[0]).not.toEqual(seen[1]);
    step.release();
  });
});
