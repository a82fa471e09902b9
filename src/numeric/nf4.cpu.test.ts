import { describe, expect, it } from 'vitest';
import { randomArray, seededRandom } from '../gpu/testing/random';
import { dequantizeNf4, nearestNf4Code, nf4Levels, nf4Words, quantizeNf4 } from './nf4';

describe('NF4 quantization', () => {
  it('picks the nearest of the 16 levels, found by brute force', () => {
    const random = seededRandom(41);
    for (let n = 0; n < 5000; n++) {
      const x = random() * 2 - 1;
      const distances = nf4Levels.map((level) => Math.abs(level - x));
      const best = Math.min(...distances);
      expect(distances[nearestNf4Code(x)]).toBe(best);
    }
    expect(nf4Levels.map(nearestNf4Code)).toEqual([...nf4Levels.keys()]);
  });

  it('lays a block out as 8 words of codes, lowest bits first, then its absmax', () => {
    const values = new Float32Array(70);
    values[0] = -2; // code 0 at bits 0..3 of word 0
    values[9] = 2; // code 15 at bits 4..7 of word 1
    values[64] = 0.5; // the second block: its own scale, 0.5
    const words = quantizeNf4(values);
    expect(words.length).toBe(nf4Words(70));
    expect(words.length).toBe(18);
    expect(words[0]).toBe(0x77777770);
    expect(words[1]).toBe(0x777777f7);
    expect(new Float32Array(words.buffer, 8 * 4, 1)[0]).toBe(2);
    // The second block's 6 values; its padded tail holds code 0, which no value reads.
    expect(words[9]).toBe(0x0077777f);
    expect(words[10]).toBe(0);
    expect(new Float32Array(words.buffer, 17 * 4, 1)[0]).toBe(0.5);
    expect(Array.from(dequantizeNf4(words, 70).slice(0, 10))).toEqual([-2, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  });

  it('keeps every value within half a level gap of its block scale, and each block maximum exact', () => {
    const random = seededRandom(7);
    const values = randomArray(random, 64 * 9 + 13, 0.05);
    values[100] = 3; // one outlier widens its block's gaps, and only its block's
    const back = dequantizeNf4(quantizeNf4(values), values.length);
    const widestGap = Math.max(...nf4Levels.slice(1).map((level, k) => level - (nf4Levels[k] as number)));
    for (let start = 0; start < values.length; start += 64) {
      const block = values.subarray(start, start + 64);
      const absmax = Math.max(...Array.from(block, Math.abs));
      for (let i = 0; i < block.length; i++) {
        const error = Math.abs((back[start + i] as number) - (block[i] as number));
        expect(error).toBeLessThanOrEqual((absmax * widestGap) / 2 + 1e-7);
        if (Math.abs(block[i] as number) === absmax) expect(back[start + i]).toBe(block[i]);
      }
    }
    const typical = Math.abs((back[5] as number) - (values[5] as number));
    expect(typical).toBeLessThan(0.05 * 0.2);
  });

  it('stores an all-zero block as zeros, and refuses a value that is not finite, by name', () => {
    expect(Array.from(dequantizeNf4(quantizeNf4(new Float32Array(5)), 5))).toEqual([0, 0, 0, 0, 0]);
    const bad = new Float32Array([1, Number.NaN]);
    expect(() => quantizeNf4(bad, 'layers.0.q_proj')).toThrow(
      'layers.0.q_proj: value 1 is NaN; it cannot be quantized to NF4.',
    );
  });
});
