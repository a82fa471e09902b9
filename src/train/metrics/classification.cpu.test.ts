/** Classification metrics against values worked out by hand and checked with scikit-learn's definitions. */
import { describe, expect, it } from 'vitest';
import { argmaxRows, classificationMetrics, confusionMatrix, MetricsInputError } from './classification';

describe('classification metrics', () => {
  it('binary: accuracy, F1 of class 1 and the confusion matrix', () => {
    // tp = 3, fp = 1, fn = 2, tn = 2 → precision 3/4, recall 3/5, F1 = 2·3/(2·3 + 1 + 2) = 6/9.
    const truth = [1, 1, 1, 1, 1, 0, 0, 0];
    const pred = [1, 1, 1, 0, 0, 1, 0, 0];
    const m = classificationMetrics(truth, pred, 2);
    expect(m.confusion).toEqual([
      [2, 1],
      [2, 3],
    ]);
    expect(m.accuracy).toBeCloseTo(5 / 8, 12);
    expect(m.f1).toBeCloseTo(6 / 9, 12);
    expect(m.f1Kind).toBe('binary');
    expect(m.perClass[1]?.precision).toBeCloseTo(0.75, 12);
    expect(m.perClass[1]?.recall).toBeCloseTo(0.6, 12);
  });

  it('macro F1 over three classes, a class never predicted counting 0', () => {
    const truth = [0, 0, 1, 1, 2, 2];
    const pred = [0, 1, 1, 1, 0, 1];
    // class 0: tp 1, support 2, predicted 2 → F1 1/2; class 1: tp 2, support 2, predicted 4 → 4/6; class 2: 0.
    const m = classificationMetrics(truth, pred, 3);
    expect(m.f1).toBeCloseTo((0.5 + 4 / 6 + 0) / 3, 12);
    expect(m.f1Kind).toBe('macro');
    expect(m.accuracy).toBeCloseTo(3 / 6, 12);
  });

  it('no positive predictions or labels gives F1 0, not NaN', () => {
    expect(classificationMetrics([0, 0], [0, 0], 2).f1).toBe(0);
  });

  it('argmax takes the first of tied classes', () => {
    expect(argmaxRows([0.1, 0.9, 2, 2, -1, -3], 2)).toEqual([1, 0, 0]);
  });

  it('rejects bad input by name', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(MetricsInputError);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(/labels\[1\] is 2/);
    expect(() => argmaxRows([1, 2, 3], 2)).toThrow(MetricsInputError);
  });
});
