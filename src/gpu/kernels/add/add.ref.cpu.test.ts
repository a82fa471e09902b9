import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { addBackwardRef, addRef } from './add.ref';

describe('residual add reference backward against finite differences', () => {
  it('passes dout to both inputs unchanged', () => {
    const random = seededRandom(17);
    const a = randomFloat64(random, 23);
    const b = randomFloat64(random, 23);
    const dout = randomFloat64(random, 23);
    const { da, db } = addBackwardRef(dout);
    const numericA = numericGradient((v) => dot(dout, addRef(v, b)), a);
    const numericB = numericGradient((v) => dot(dout, addRef(a, v)), b);
    for (let i = 0; i < a.length; i++) {
      expect(da[i]).toBeCloseTo(numericA[i] as number, 8);
      expect(db[i]).toBeCloseTo(numericB[i] as number, 8);
    }
  });
});
