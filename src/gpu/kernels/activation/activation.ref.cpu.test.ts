import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { activationKinds } from './activation';
import { activationBackwardRef, activationRef, erfcRef } from './activation.ref';

describe('activation references', () => {
  it.each(activationKinds)('%s backward matches finite differences over [-6, 6]', (kind) => {
    const random = seededRandom(17);
    // Keep relu's kink away from the probes: |x| ≥ 0.01.
    const x = randomFloat64(random, 41).map((v) => 6 * v + (v >= 0 ? 0.01 : -0.01));
    const dy = randomFloat64(random, 41);
    const dx = activationBackwardRef(kind, x, dy);
    const numeric = numericGradient((v) => dot(dy, activationRef(kind, v)), x);
    for (let i = 0; i < x.length; i++) expect(dx[i]).toBeCloseTo(numeric[i] as number, 7);
  });

  it('erfc matches known values in both ranges, and its two methods agree where they meet', () => {
    // From Python's math.erfc.
    const known: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047266],
      [3, 2.209049699858544e-5],
      [5, 1.5374597944280349e-12],
      [-1, 1.8427007929497148],
    ];
    for (const [z, want] of known) expect(Math.abs(erfcRef(z) - want)).toBeLessThan(1e-12 * want);
    const below = erfcRef(2.5 - 1e-12);
    const above = erfcRef(2.5);
    expect(Math.abs(below - above) / above).toBeLessThan(1e-10);
  });

  it('matches known values of the exact GELU, silu and relu', () => {
    const x = Float64Array.from([0, 1, -1, 3, -3, -30, 30]);
    // torch.nn.functional.gelu(x, approximate="none"), i.e. 0.5*x*(1 + math.erf(x/math.sqrt(2))).
    // Φ(1) = 0.8413447460685429, Φ(3) = 0.9986501019683699 (normal tables).
    const gelu = [0, 0.8413447460685429, -0.15865525393145707, 2.99595030590511, -0.0040496940948902835];
    const y = activationRef('gelu', x);
    for (const [i, w] of gelu.entries()) expect(y[i]).toBeCloseTo(w, 12);
    expect(y[5]).toBeCloseTo(0, 15);
    expect(y[6]).toBe(30);
    expect(activationRef('silu', x)[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 15);
    expect([...activationRef('relu', x)]).toEqual([0, 1, 0, 3, 0, 0, 30]);
    expect([...activationBackwardRef('relu', Float64Array.from([0]), Float64Array.from([1]))]).toEqual([0]);
  });
});
