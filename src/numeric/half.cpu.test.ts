import { describe, expect, it } from 'vitest';
import { floatToHalfBits, halfBitsOf, halfBitsToFloat, roundToHalf, toHalfBits } from './half';

describe('binary16 conversion', () => {
  it('decodes known bit patterns', () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00].map(halfBitsToFloat)).toEqual([
      1,
      -2,
      65504,
      2 ** -24,
      2 ** -14,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    expect(halfBitsToFloat(0x7e00)).toBeNaN();
  });

  it('gives back every half value it is given, and rounds values between two halves to the nearer', () => {
    for (let h = 0; h < 0x10000; h++) {
      const value = halfBitsToFloat(h);
      if (Number.isNaN(value)) {
        expect(Number.isNaN(halfBitsToFloat(floatToHalfBits(value)))).toBe(true);
        continue;
      }
      expect(floatToHalfBits(value)).toBe(h);
      // Between h and the next half up in magnitude: a quarter of the way rounds to h, three quarters away.
      const next = halfBitsToFloat(h + 1);
      if ((h & 0x7fff) >= 0x7bff || !Number.isFinite(next)) continue;
      const gap = next - value;
      expect(floatToHalfBits(value + gap / 4)).toBe(h);
      expect(floatToHalfBits(value + (3 * gap) / 4)).toBe(h + 1);
      // Exactly halfway, ties go to the even one of the two.
      expect(floatToHalfBits(value + gap / 2)).toBe(h % 2 === 0 ? h : h + 1);
    }
  });

  it('overflows to Infinity past the largest half, and flushes below half the smallest to zero', () => {
    expect(floatToHalfBits(65519)).toBe(0x7bff);
    expect(floatToHalfBits(65520)).toBe(0x7c00);
    expect(floatToHalfBits(-1e9)).toBe(0xfc00);
    expect(floatToHalfBits(2 ** -26)).toBe(0);
    expect(floatToHalfBits(-(2 ** -26))).toBe(0x8000);
    expect(Array.from(roundToHalf([0.1, 1 / 3]))).toEqual([0.0999755859375, 0.333251953125]);
  });

  it('converts whole arrays as it converts single values, and reports values too large for binary16', () => {
    const values = Float32Array.from([0.1, -3, 65504, 2 ** -20, Number.POSITIVE_INFINITY, Number.NaN]);
    const { bits, overflow } = halfBitsOf(values);
    expect(Array.from(bits)).toEqual(Array.from(values, floatToHalfBits));
    expect(Array.from(toHalfBits([0.1, -3]))).toEqual([floatToHalfBits(0.1), floatToHalfBits(-3)]);
    // Infinity and NaN stay what they are; only a finite value that became infinite overflows.
    expect(overflow).toBe(false);
    expect(halfBitsOf(Float32Array.from([1, 70000])).overflow).toBe(true);
    expect(halfBitsOf(Float32Array.from([-1e6])).overflow).toBe(true);
  });

  it('converts every BF16 value (the table path) as it converts it one at a time', () => {
    const words = Uint32Array.from({ length: 0x10000 }, (_, b) => (b << 16) >>> 0);
    const values = new Float32Array(words.buffer);
    const { bits } = halfBitsOf(values);
    for (let b = 0; b < 0x10000; b++) {
      const want = floatToHalfBits(values[b] as number);
      if (bits[b] !== want) expect([b, bits[b]]).toEqual([b, want]);
    }
  });
});
