import { describe, expect, it } from 'vitest';
import { defaultSampling, readSampling } from './playground-slice';

const fields = (change: Partial<Record<keyof typeof defaultSampling, string>> = {}) => ({
  ...(Object.fromEntries(Object.entries(defaultSampling).map(([k, v]) => [k, String(v)])) as Record<
    keyof typeof defaultSampling,
    string
  >),
  ...change,
});

describe('playground sampling settings', () => {
  it('reads typed settings into numbers', () => {
    expect(readSampling(fields({ temperature: '0.7', topK: '40', topP: '0.9', seed: '3' }))).toEqual({
      ok: true,
      settings: { maxNewTokens: 24, temperature: 0.7, topK: 40, topP: 0.9, seed: 3 },
    });
  });

  it('names the setting that does not read', () => {
    expect(readSampling(fields({ maxNewTokens: '0' }))).toMatchObject({ ok: false, message: /Max tokens/ });
    expect(readSampling(fields({ topP: '0' }))).toMatchObject({ ok: false, message: /Top-p/ });
    expect(readSampling(fields({ temperature: '' }))).toMatchObject({ ok: false, message: /Temperature/ });
    expect(readSampling(fields({ topK: '1.5' }))).toMatchObject({ ok: false, message: /Top-k/ });
  });
});
