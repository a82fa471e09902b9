import { describe, expect, it } from 'vitest';
import {
  decimate,
  formatTick,
  linearTicks,
  linePath,
  logTicks,
  makeScale,
  niceStep,
  type Point,
  paddedDomain,
} from './chart-geometry';

describe('chart geometry', () => {
  it('maps linear and log domains onto pixels', () => {
    const linear = makeScale({ min: 0, max: 10 }, [0, 100], false);
    expect([linear(0), linear(5), linear(10)]).toEqual([0, 50, 100]);
    const log = makeScale({ min: 1, max: 100 }, [200, 0], true);
    expect([log(1), log(10), log(100)]).toEqual([200, 100, 0]);
  });

  it('pads domains and never returns an empty one', () => {
    expect(paddedDomain([2, 4], false)).toEqual({ min: 1.9, max: 4.1 });
    expect(paddedDomain([3, 3], false)).toEqual({ min: 2.7, max: 3.3 });
    expect(paddedDomain([], true)).toEqual({ min: 0.1, max: 10 });
    const log = paddedDomain([1, 100, -1, Number.NaN], true);
    expect(log.min).toBeCloseTo(10 ** -0.1);
    expect(log.max).toBeCloseTo(10 ** 2.1);
  });

  it('picks nice ticks', () => {
    expect([niceStep(0.3), niceStep(1.5), niceStep(4), niceStep(7)]).toEqual([0.5, 2, 5, 10]);
    expect(linearTicks({ min: 0, max: 30 }, 4)).toEqual([0, 10, 20, 30]);
    expect(linearTicks({ min: 5.23, max: 5.61 }, 5)).toEqual([5.3, 5.4, 5.5, 5.6]);
    expect(logTicks({ min: 0.05, max: 20 })).toEqual([0.1, 1, 10]);
    expect(logTicks({ min: 0.9, max: 12 })).toEqual([1, 2, 5, 10]);
    // Narrower than a decade: linear values, placed on the log scale.
    expect(logTicks({ min: 5.2, max: 5.6 })).toEqual([5.2, 5.3, 5.4, 5.5, 5.6]);
    expect(formatTick(5.3, [5.3, 5.4])).toBe('5.3');
    expect(formatTick(20, [0, 10, 20])).toBe('20');
  });

  it('decimates to the extremes of each bucket, keeping the ends', () => {
    const points: Point[] = Array.from({ length: 10_000 }, (_, i) => ({ x: i, y: i === 5000 ? 99 : i % 7 }));
    const kept = decimate(points, 100);
    expect(kept.length).toBeLessThanOrEqual(202);
    expect(kept[0]).toBe(points[0]);
    expect(kept[kept.length - 1]).toBe(points[9999]);
    expect(kept.some((p) => p.y === 99)).toBe(true);
    expect(kept.every((p, i) => i === 0 || p.x > (kept[i - 1] as Point).x)).toBe(true);
    const few = points.slice(0, 10);
    expect(decimate(few, 100)).toBe(few);
  });

  it('writes an SVG path', () => {
    const s = (v: number) => v * 2;
    expect(
      linePath(
        [
          { x: 0, y: 1 },
          { x: 1, y: 2 },
        ],
        s,
        s,
      ),
    ).toBe('M0.0,2.0L2.0,4.0');
  });
});
