/**
 * DPO's flags without a GPU: `plan --objective dpo` plans each pair as two rows (the plan of twice the
 * batch, said so), and the flags that make no sense for DPO are refused before anything loads.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tinyConfigJson } from '../train/fixtures/tiny-models';
import { preferenceFromFlags, referenceProgressReporter } from './dpo-flags';
import { runPlan } from './plan';

afterEach(() => vi.restoreAllMocks());

function planJson(flags: Record<string, string | boolean>): Record<string, unknown> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  expect(runPlan({ ...flags, json: true })).toBe(0);
  vi.restoreAllMocks();
  return JSON.parse(lines.join(''));
}

describe('DPO flags', () => {
  it('plans a batch of pairs as twice the rows', () => {
    const config = join(mkdtempSync(join(tmpdir(), 'whetstone-dpo-plan-')), 'config.json');
    writeFileSync(config, JSON.stringify(tinyConfigJson({ family: 'llama' }, 256, 1, 2)));
    const common = { model: config, method: 'lora', 'seq-len': '32' };
    const dpo = planJson({ ...common, 'batch-size': '3', objective: 'dpo' });
    const rows = planJson({ ...common, 'batch-size': '6' });
    const sft = planJson({ ...common, 'batch-size': '3' });
    expect(dpo).toMatchObject({ objective: 'dpo', total_bytes: rows.total_bytes });
    expect(sft.objective).toBe('sft');
    expect(dpo.total_bytes as number).toBeGreaterThan(sft.total_bytes as number);
  });

  it('takes β, TRL’s 0.1 by default, and refuses what DPO cannot do', () => {
    expect(preferenceFromFlags({ objective: 'dpo' })).toEqual({ preference: { beta: 0.1 } });
    expect(preferenceFromFlags({ objective: 'dpo', 'dpo-beta': '0.5' })).toEqual({
      preference: { beta: 0.5 },
    });
    expect(preferenceFromFlags({})).toEqual({});
    expect(preferenceFromFlags({ objective: 'dpo', 'dpo-loss': 'ipo' })).toEqual({
      preference: { beta: 0.1, lossType: 'ipo' },
    });
    expect(() => preferenceFromFlags({ objective: 'dpo', 'dpo-loss': 'kto' })).toThrow(
      /--dpo-loss must be one of sigmoid, hinge, ipo/,
    );
    expect(() => preferenceFromFlags({ 'dpo-loss': 'ipo' })).toThrow(/--dpo-loss needs --objective dpo/);
    expect(() => preferenceFromFlags({ objective: 'ppo' })).toThrow(/--objective must be sft .* or dpo/);
    expect(() => preferenceFromFlags({ objective: 'dpo', 'dpo-beta': '0' })).toThrow(/--dpo-beta 0/);
    expect(() => preferenceFromFlags({ objective: 'dpo', 'no-mask-prompt': true })).toThrow(
      /never the prompt's/,
    );
  });

  it('tells the reference pass on stderr at each tenth of the pairs', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const report = referenceProgressReporter();
    for (let done = 1; done <= 40; done++) report({ kind: 'preparing', done, total: 40 });
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toBe('whetstone: reference log-probabilities of the base model: 40 of 40 pairs\n');
  });
});
