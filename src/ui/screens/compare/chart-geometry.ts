/**
 * The arithmetic of the loss charts, kept apart from the SVG so it is tested in Node: domains, linear
 * and logarithmic scales, "nice" tick values (1, 2, 5 × 10^k), and min/max decimation so a series of
 * 10,000 points draws as a few hundred segments without losing its spikes.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Domain {
  min: number;
  max: number;
}

export type Scale = (value: number) => number;

/** Maps a domain onto a pixel range; in log scale the domain must be positive. */
export function makeScale(domain: Domain, range: [number, number], log: boolean): Scale {
  const f = log ? Math.log10 : (v: number) => v;
  const d0 = f(domain.min);
  const span = f(domain.max) - d0 || 1;
  const [r0, r1] = range;
  return (value) => r0 + ((f(value) - d0) / span) * (r1 - r0);
}

/** The y domain of the values, padded by 5% (in log space for a log scale); never empty. */
export function paddedDomain(values: number[], log: boolean): Domain {
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (usable.length === 0) return log ? { min: 0.1, max: 10 } : { min: 0, max: 1 };
  let min = Math.min(...usable);
  let max = Math.max(...usable);
  if (log) {
    const lo = Math.log10(min);
    const hi = Math.log10(max);
    const pad = hi > lo ? (hi - lo) * 0.05 : 0.05;
    return { min: 10 ** (lo - pad), max: 10 ** (hi + pad) };
  }
  if (max === min) {
    const pad = Math.abs(min) * 0.1 || 1;
    min -= pad;
    max += pad;
    return { min, max };
  }
  const pad = (max - min) * 0.05;
  return { min: min - pad, max: max + pad };
}

/** 1, 2 or 5 × 10^k: the nicest step at or above `rough`. */
export function niceStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** About `count` round values inside the domain. */
export function linearTicks(domain: Domain, count = 5): number[] {
  const step = niceStep((domain.max - domain.min) / Math.max(1, count - 1));
  const first = Math.ceil(domain.min / step) * step;
  const ticks: number[] = [];
  for (let v = first; v <= domain.max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Decade marks (and 2×, 5× between them when the domain spans few decades); linear ticks when the
 * domain is narrower than that allows. */
export function logTicks(domain: Domain): number[] {
  const lo = Math.floor(Math.log10(domain.min));
  const hi = Math.ceil(Math.log10(domain.max));
  const inside = (v: number) => v >= domain.min * (1 - 1e-9) && v <= domain.max * (1 + 1e-9);
  const decades: number[] = [];
  const withSteps: number[] = [];
  for (let d = lo; d <= hi; d++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** d).toPrecision(12));
      if (!inside(v)) continue;
      withSteps.push(v);
      if (m === 1) decades.push(v);
    }
  }
  if (decades.length >= 3) return decades;
  if (withSteps.length >= 3) return withSteps;
  return linearTicks(domain, 5).filter((v) => v > 0);
}

/** Enough decimals to tell neighbouring ticks apart. */
export function formatTick(value: number, ticks: number[]): string {
  const gaps = ticks.slice(1).map((t, i) => Math.abs(t - (ticks[i] as number)));
  const gap = Math.min(...gaps.filter((g) => g > 0), Math.abs(value) || 1);
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(gap))));
  return value.toFixed(decimals);
}

/** Keeps the first, the last, and the lowest and highest point of each of `buckets` x-ranges. */
export function decimate(points: Point[], buckets: number): Point[] {
  if (points.length <= buckets * 2) return points;
  const first = points[0] as Point;
  const last = points[points.length - 1] as Point;
  const width = (last.x - first.x) / buckets || 1;
  const kept: Point[] = [first];
  let bucket = -1;
  let low: Point | undefined;
  let high: Point | undefined;
  const flush = () => {
    if (!low || !high) return;
    if (low === high) kept.push(low);
    else kept.push(...(low.x <= high.x ? [low, high] : [high, low]));
  };
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i] as Point;
    const b = Math.min(buckets - 1, Math.floor((p.x - first.x) / width));
    if (b !== bucket) {
      flush();
      bucket = b;
      low = p;
      high = p;
    } else {
      if (p.y < (low as Point).y) low = p;
      if (p.y > (high as Point).y) high = p;
    }
  }
  flush();
  kept.push(last);
  return kept;
}

/** An SVG path through the points, in pixels. */
export function linePath(points: Point[], sx: Scale, sy: Scale): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('');
}
