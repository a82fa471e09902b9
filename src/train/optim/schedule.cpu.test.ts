import { describe, expect, it } from 'vitest';
import {
  learningRateMultiplier,
  lrForUpdate,
  lrMultiplier,
  type Schedule,
  type ScheduleKind,
} from './schedule';

// Expected values worked out by hand from the HF formulas in schedule.ts.
describe('learning-rate schedules (HF transformers)', () => {
  const at = (kind: ScheduleKind, steps: Omit<Schedule, 'kind'>, at: number[]) =>
    at.map((s) => learningRateMultiplier(kind, s, steps));

  it('constant with warmup: s / W during warmup, then 1', () => {
    const steps = { warmupSteps: 4, totalSteps: 0 };
    expect(at('constant', steps, [0, 1, 3, 4, 5, 1000])).toEqual([0, 0.25, 0.75, 1, 1, 1]);
    expect(at('constant', { ...steps, warmupSteps: 0 }, [0, 7])).toEqual([1, 1]);
  });

  it('linear with warmup: up to 1 at W, down to 0 at N, and 0 after', () => {
    const steps = { warmupSteps: 2, totalSteps: 10 };
    // (10 − s) / 8 after warmup.
    expect(at('linear', steps, [0, 1, 2, 3, 6, 9, 10, 11])).toEqual([0, 0.5, 1, 7 / 8, 0.5, 1 / 8, 0, 0]);
    // No warmup: the first update already has the full rate; max(1, N − W) guards W = N.
    expect(at('linear', { ...steps, warmupSteps: 0 }, [0, 5])).toEqual([1, 0.5]);
    expect(at('linear', { warmupSteps: 3, totalSteps: 3 }, [2, 3])).toEqual([2 / 3, 0]);
  });

  it('cosine with warmup (half a cycle): 1 at W, ½ halfway, 0 at N, rising again past N', () => {
    const steps = { warmupSteps: 2, totalSteps: 10 };
    const [w0, w1, top, quarter, half, end, past] = at('cosine', steps, [0, 1, 2, 4, 6, 10, 12]);
    expect([w0, w1, top]).toEqual([0, 0.5, 1]);
    expect(quarter).toBeCloseTo(0.5 * (1 + Math.SQRT1_2), 15); // progress ¼: cos(π/4)
    expect(half).toBeCloseTo(0.5, 15); // progress ½: cos(π/2) = 0
    expect(end).toBeCloseTo(0, 15); // progress 1: cos(π) = −1
    expect(past).toBeCloseTo(0.5 * (1 - Math.SQRT1_2), 15); // progress 1¼: cos(5π/4)
    // A full cycle returns to 1 at N.
    expect(lrMultiplier({ kind: 'cosine', ...steps, numCycles: 1 }, 10)).toBeCloseTo(1, 15);
  });

  it('gives update t (1-based) the rate of step t − 1, as LambdaLR does', () => {
    const steps = { warmupSteps: 2, totalSteps: 5 };
    expect([1, 2, 3, 4, 5].map((t) => lrForUpdate(0.1, { kind: 'linear', ...steps }, t))).toEqual([
      0,
      0.05,
      0.1,
      0.1 * (2 / 3),
      0.1 / 3,
    ]);
  });

  it('rejects negative or fractional steps and unknown kinds', () => {
    const steps = { warmupSteps: 2, totalSteps: 5 };
    const linear: Schedule = { kind: 'linear', ...steps };
    expect(lrMultiplier(linear, 3)).toBe(learningRateMultiplier('linear', 3, steps));
    expect(() => lrMultiplier(linear, -1)).toThrow(/step must be a whole number/);
    expect(() => lrMultiplier({ ...linear, warmupSteps: 1.5 }, 0)).toThrow(/Warmup steps/);
    expect(() => lrMultiplier({ ...linear, kind: 'step' as ScheduleKind }, 0)).toThrow(
      /Unknown schedule "step"/,
    );
  });
});
