import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { type LoraRefParams, loraBackwardRef, loraForwardRef } from './lora-linear.ref';

describe('LoRA reference backward against finite differences', () => {
  it.each([0, 0.4])('with dropout %d', (p) => {
    const random = seededRandom(17);
    const shapes = {
      M: 4,
      IN: 5,
      OUT: 3,
      r: 2,
      scale: 1.5,
      ...(p ? { dropout: { p, key: { seed: 1, step: 2, stream: 3 } } } : {}),
    };
    const params: LoraRefParams = {
      x: randomFloat64(random, 20),
      w: randomFloat64(random, 15),
      bias: randomFloat64(random, 3),
      a: randomFloat64(random, 10),
      b: randomFloat64(random, 6),
    };
    const dy = randomFloat64(random, 12);
    const grads = loraBackwardRef(params, shapes, dy);
    const lossWith = (name: keyof LoraRefParams) => (v: Float64Array) =>
      dot(dy, loraForwardRef({ ...params, [name]: v }, shapes).y);
    const close = (got: Float64Array, want: Float64Array) => {
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 6);
    };
    close(grads.dx, numericGradient(lossWith('x'), params.x));
    close(grads.dA, numericGradient(lossWith('a'), params.a));
    close(grads.dB, numericGradient(lossWith('b'), params.b));
  });
});
