/**
 * Element-wise comparison of a GPU result against a float64 reference:
 * |gpu − ref| ≤ atol + rtol·|ref|, with NaN or ±Infinity from the GPU always a failure.
 */
import { product } from './random';

export interface Tolerance {
  atol: number;
  rtol: number;
}

export interface Mismatch {
  index: number;
  got: number;
  want: number;
}

export interface Comparison {
  name: string;
  ok: boolean;
  maxAbsDiff: number;
  /** Index of the largest difference. */
  worstIndex: number;
  mismatches: number;
  firstMismatches: Mismatch[];
}

export function compareToReference(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: Tolerance,
): Comparison {
  if (got.length !== want.length)
    throw new Error(`${name}: GPU gave ${got.length} values, reference ${want.length}.`);
  let maxAbsDiff = 0;
  let worstIndex = -1;
  let mismatches = 0;
  const firstMismatches: Mismatch[] = [];
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    const diff = Number.isFinite(g) ? Math.abs(g - w) : Number.POSITIVE_INFINITY;
    if (diff > maxAbsDiff || worstIndex < 0) {
      maxAbsDiff = diff;
      worstIndex = i;
    }
    if (!(diff <= tol.atol + tol.rtol * Math.abs(w))) {
      mismatches++;
      if (firstMismatches.length < 5) firstMismatches.push({ index: i, got: g, want: w });
    }
  }
  return { name, ok: mismatches === 0, maxAbsDiff, worstIndex, mismatches, firstMismatches };
}

export function formatComparison(c: Comparison, shape: readonly number[], tol: Tolerance): string {
  const at = (i: number) => `[${unravel(i, shape).join(', ')}]`;
  const lines = [
    `${c.name}[${shape.join(', ')}]: ${c.mismatches} of ${product(shape)} elements outside ` +
      `atol ${tol.atol} + rtol ${tol.rtol}·|ref|; largest difference ${c.maxAbsDiff} at ${at(c.worstIndex)}`,
    ...c.firstMismatches.map((m) => `  ${c.name}${at(m.index)}: gpu ${m.got}, reference ${m.want}`),
  ];
  return lines.join('\n');
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out: number[] = [];
  let rest = Math.max(0, index);
  for (let d = shape.length - 1; d >= 0; d--) {
    const dim = shape[d] as number;
    out.unshift(rest % dim);
    rest = Math.floor(rest / dim);
  }
  return out;
}
