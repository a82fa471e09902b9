/**
 * Checks a timed kernel's own output before its time is reported: every output value must be finite
 * (outputs start NaN-poisoned, so an element the kernel never wrote fails), and sampled elements must
 * match a float64 recomputation within |got − want| ≤ atol + rtol·|want|. Sampling keeps the check cheap
 * at full GPU sizes, where a dense float64 reference would take minutes on the CPU.
 */
import type { Random } from '../../gpu/testing/random';

export interface SpotCheck {
  passed: boolean;
  /** Elements recomputed in float64. */
  sampled: number;
  maxAbsDiff: number;
  failure?: string;
}

export function spotCheck(
  name: string,
  got: Float32Array,
  samples: number,
  random: Random,
  want: (index: number) => number,
  tol: { atol: number; rtol: number },
): SpotCheck {
  for (let i = 0; i < got.length; i++) {
    if (!Number.isFinite(got[i] as number)) {
      return {
        passed: false,
        sampled: 0,
        maxAbsDiff: Number.POSITIVE_INFINITY,
        failure: `${name}[${i}] = ${got[i]}`,
      };
    }
  }
  let maxAbsDiff = 0;
  const count = Math.min(samples, got.length);
  for (let s = 0; s < count; s++) {
    // The last element too: tiles at the ragged edge are where indexing slips.
    const index = s === 0 ? got.length - 1 : Math.floor(random() * got.length);
    const w = want(index);
    const diff = Math.abs((got[index] as number) - w);
    maxAbsDiff = Math.max(maxAbsDiff, diff);
    if (!(diff <= tol.atol + tol.rtol * Math.abs(w))) {
      return {
        passed: false,
        sampled: s + 1,
        maxAbsDiff,
        failure: `${name}[${index}]: got ${got[index]}, want ${w}`,
      };
    }
  }
  return { passed: true, sampled: count, maxAbsDiff };
}
