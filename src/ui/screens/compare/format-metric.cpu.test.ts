import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatGradNorm,
  formatLearningRate,
  formatLoss,
  formatPercent,
  formatRate,
  formatStepTime,
} from './format-metric';

describe('metric formats', () => {
  it('writes each kind of number', () => {
    expect(formatLoss(5.412345)).toBe('5.4123');
    expect(formatLoss(Number.NaN)).toBe('NaN');
    expect(formatLearningRate(0.001)).toBe('1.00e-3');
    expect(formatGradNorm(1.234567)).toBe('1.235');
    expect(formatRate(12.34)).toBe('12.3');
    expect(formatRate(12345.6)).toBe('12,346');
    expect(formatStepTime(84.23)).toBe('84.2 ms');
    expect(formatStepTime(1250)).toBe('1.25 s');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
  });

  it('keeps small percentages visible', () => {
    expect(formatPercent(1, 8)).toBe('12.5%');
    expect(formatPercent(31, 100_000)).toBe('0.031%');
    expect(formatPercent(8, 8)).toBe('100%');
    expect(formatPercent(1, 0)).toBe('—');
  });
});
