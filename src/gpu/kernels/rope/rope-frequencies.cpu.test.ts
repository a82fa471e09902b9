import { describe, expect, it } from 'vitest';
import { type RopeConfig, type RopeScaling, ropeInvFreq } from './rope-frequencies';

/**
 * HF transformers' `_compute_default_rope_parameters` and `_compute_llama3_parameters`, transcribed
 * operation by operation (torch.where and all). `round` is the precision of every tensor op: the
 * identity for float64, Math.fround to reproduce what torch computes in float32.
 */
function hfInvFreq(config: RopeConfig, round: (x: number) => number): number[] {
  const dim = config.headDim;
  const base = config.theta;
  const arange = Array.from({ length: dim / 2 }, (_, i) => 2 * i);
  const invFreq = arange.map((k) => round(1 / round(base ** round(k / dim))));
  const s = config.scaling;
  if (!s) return invFreq;
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  const wavelen = invFreq.map((f) => round(round(2 * Math.PI) / f));
  let invFreqLlama = invFreq.map((f, i) =>
    (wavelen[i] as number) > lowFreqWavelen ? round(f / s.factor) : f,
  );
  const smoothFactor = wavelen.map((w) =>
    round(round(round(s.originalMaxPositions / w) - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor)),
  );
  const smoothed = invFreqLlama.map((f, i) => {
    const sf = smoothFactor[i] as number;
    return round(round(round(round(1 - sf) * f) / s.factor) + round(sf * f));
  });
  const isMedium = wavelen.map((w) => !(w < highFreqWavelen) && !(w > lowFreqWavelen));
  invFreqLlama = invFreqLlama.map((f, i) => (isMedium[i] ? (smoothed[i] as number) : f));
  return invFreqLlama;
}

const llama3: RopeScaling = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 };

function expectRelative(got: Float64Array, want: number[], rtol: number) {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    expect(Math.abs((got[i] as number) - w)).toBeLessThanOrEqual(rtol * Math.abs(w));
  });
}

describe('RoPE inv_freq table', () => {
  it.each<RopeConfig>([
    { headDim: 128, theta: 10000 },
    { headDim: 64, theta: 500000 },
    { headDim: 10, theta: 10000 },
    { headDim: 80, theta: 1000000 },
    { headDim: 128, theta: 500000, scaling: llama3 }, // Llama 3.1 / 3.2
    { headDim: 64, theta: 500000, scaling: { ...llama3, factor: 32 } }, // Llama 3.2 1B
    { headDim: 16, theta: 500000, scaling: llama3 }, // the GPU test's table: one slot in each band
  ])('matches HF in float64, and HF in float32 to float32 precision: %j', (config) => {
    const table = ropeInvFreq(config);
    expectRelative(
      table,
      hfInvFreq(config, (x) => x),
      1e-15,
    );
    // torch builds the table in float32; ours is its float64 original.
    expectRelative(table, hfInvFreq(config, Math.fround), 1e-6);
  });

  it('starts at 1 and falls geometrically by theta^(-2/D)', () => {
    const table = ropeInvFreq({ headDim: 128, theta: 10000 });
    expect(table.length).toBe(64);
    expect(table[0]).toBe(1);
    for (let i = 1; i < 64; i++) {
      expect((table[i] as number) / (table[i - 1] as number)).toBeCloseTo(10000 ** (-2 / 128), 14);
    }
  });

  it('leaves high frequencies alone, divides low ones by the factor, and blends the band between', () => {
    const config = { headDim: 128, theta: 500000 };
    const plain = ropeInvFreq(config);
    const scaled = ropeInvFreq({ ...config, scaling: llama3 });
    // wavelen 2π/inv_freq crosses 8192/4 = 2048 after slot 28 and 8192/1 after slot 34.
    for (let i = 0; i <= 28; i++) expect(scaled[i]).toBe(plain[i]);
    for (let i = 35; i < 64; i++) expect(scaled[i]).toBeCloseTo((plain[i] as number) / 8, 18);
    for (let i = 29; i <= 34; i++) {
      const p = plain[i] as number;
      expect(scaled[i]).toBeLessThan(p);
      expect(scaled[i]).toBeGreaterThan(p / 8);
      expect(scaled[i]).toBeLessThan(scaled[i - 1] as number);
    }
  });

  it('refuses odd head dimensions and bad scaling with messages that say why', () => {
    expect(() => ropeInvFreq({ headDim: 7, theta: 10000 })).toThrow(/even head dimension D ≥ 2, got D = 7/);
    expect(() => ropeInvFreq({ headDim: 8, theta: 0 })).toThrow(/theta must be a positive number/);
    expect(() =>
      ropeInvFreq({ headDim: 8, theta: 10000, scaling: { ...llama3, highFreqFactor: 1 } }),
    ).toThrow(/highFreqFactor \(1\) must exceed lowFreqFactor \(1\)/);
    expect(() => ropeInvFreq({ headDim: 8, theta: 10000, scaling: { ...llama3, factor: -2 } })).toThrow(
      /factor must be a positive number/,
    );
  });
});
