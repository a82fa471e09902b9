import { describe, expect, it } from 'vitest';
import { dropoutMask, dropoutThreshold } from './dropout.ref';

describe('counter-based dropout mask', () => {
  const key = { seed: 7, step: 1, stream: 2 };

  it.each([0.1, 0.5, 0.9])('drops close to p = %d of 20000 elements', (p) => {
    const mask = dropoutMask(key, 20_000, p);
    const dropped = mask.filter((v) => v === 0).length / mask.length;
    expect(Math.abs(dropped - p)).toBeLessThan(0.015);
    expect(mask.find((v) => v !== 0)).toBeCloseTo(1 / (1 - p), 12);
  });

  it('is a pure function of (seed, step, stream, index)', () => {
    expect(dropoutMask(key, 512, 0.5)).toEqual(dropoutMask({ ...key }, 512, 0.5));
    for (const other of [
      { ...key, seed: 8 },
      { ...key, step: 2 },
      { ...key, stream: 3 },
    ]) {
      expect(dropoutMask(other, 512, 0.5)).not.toEqual(dropoutMask(key, 512, 0.5));
    }
  });

  it('keeps everything at p = 0 and rejects p outside [0, 1)', () => {
    expect(dropoutMask(key, 100, 0).every((v) => v === 1)).toBe(true);
    expect(() => dropoutThreshold(1)).toThrow(/\[0, 1\)/);
    expect(() => dropoutThreshold(-0.1)).toThrow(/\[0, 1\)/);
  });
});
