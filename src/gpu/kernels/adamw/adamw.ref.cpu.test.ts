// AdamW has no backward to check by finite differences; the reference is checked against values by
// hand and against torch's own arrangement of the same step (lerp, step_size, denom).
import { describe, expect, it } from 'vitest';
import { randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { type AdamwHyper, type AdamwState, adamwStepRef } from './adamw.ref';
import { stepUniformValues } from './step-uniform';

const hyper: AdamwHyper = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
const one = (p: number): AdamwState => ({
  param: Float64Array.from([p]),
  expAvg: new Float64Array(1),
  expAvgSq: new Float64Array(1),
});

/** torch/optim/adamw.py's _single_tensor_adamw, line by line, in float64. */
function torchArrangement(state: AdamwState, grad: Float64Array, h: AdamwHyper, t: number, clip: number) {
  const [, stepSize, bias2Sqrt] = stepUniformValues([h.beta1, h.beta2], t, h.lr) as [number, number, number];
  return {
    param: state.param.map((p0, i) => {
      const g = clip * (grad[i] as number);
      const p = p0 * (1 - h.lr * h.weightDecay);
      const m = (state.expAvg[i] as number) + (1 - h.beta1) * (g - (state.expAvg[i] as number));
      const v = (state.expAvgSq[i] as number) * h.beta2 + (1 - h.beta2) * g * g;
      return p - (stepSize * m) / (Math.sqrt(v) / bias2Sqrt + h.eps);
    }),
  };
}

describe('AdamW reference', () => {
  it('takes a first step of about lr·sign(g), after decoupled decay (by hand)', () => {
    // p = 1·(1 − 0.1·0.01) = 0.999; m̂ = 0.5, v̂ = 0.25; p −= 0.1·0.5 / (0.5 + 1e-8).
    const next = adamwStepRef(one(1), Float64Array.from([0.5]), hyper, 1);
    expect(next.param[0]).toBeCloseTo(0.999 - 0.05 / 0.50000001, 14);
    expect(next.expAvg[0]).toBeCloseTo(0.05, 15);
    expect(next.expAvgSq[0]).toBeCloseTo(0.00025, 15);
  });

  it('scales the gradient by the clip coefficient before both moments', () => {
    const next = adamwStepRef(one(1), Float64Array.from([0.5]), hyper, 1, 0.5);
    expect(next.expAvg[0]).toBeCloseTo(0.025, 15);
    expect(next.expAvgSq[0]).toBeCloseTo(0.0000625, 15);
    expect(next.param[0]).toBeCloseTo(0.999 - 0.025 / 0.25000001, 14);
  });

  it('with lr 0 changes only the moments (the first step of a warmup)', () => {
    const next = adamwStepRef(one(0.7), Float64Array.from([2]), { ...hyper, lr: 0 }, 1);
    expect(next.param[0]).toBe(0.7);
    expect(next.expAvg[0]).toBeCloseTo(0.2, 15);
  });

  it("matches torch's arrangement of the step over three steps", () => {
    const random = seededRandom(4);
    let state: AdamwState = {
      param: randomFloat64(random, 9),
      expAvg: new Float64Array(9),
      expAvgSq: new Float64Array(9),
    };
    for (let t = 1; t <= 3; t++) {
      const grad = randomFloat64(random, 9);
      const want = torchArrangement(state, grad, hyper, t, 0.8);
      state = adamwStepRef(state, grad, hyper, t, 0.8);
      for (let i = 0; i < 9; i++) expect(state.param[i]).toBeCloseTo(want.param[i] as number, 13);
    }
  });

  it('rejects a step below 1 and betas outside [0, 1)', () => {
    expect(() => stepUniformValues([0.9, 0.999], 0, 0.1)).toThrow(/≥ 1/);
    expect(() => stepUniformValues([0.9, 1], 1, 0.1)).toThrow(/betas/);
    expect(stepUniformValues([0.9, 0.999], 1, 0.1)).toEqual([0.1, 0.1 / (1 - 0.9), Math.sqrt(1 - 0.999), 0]);
  });
});
