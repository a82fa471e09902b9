/**
 * DPO from the command line: `train --objective dpo` on a preference file starts at log 2 (a new LoRA
 * adapter is its own reference), learns to prefer the chosen responses, and saves a PEFT LoRA adapter
 * that `eval --objective dpo --adapter` scores as the run's last evaluation did; the flags that make no
 * sense for DPO, and a file without pairs, are refused by name.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapterConfig, spawnWhetstone, tinyCliWorkspace, whetstone } from './testing/cli-method-test';

const ws = tinyCliWorkspace('dpo', 5);
const prefs = join(ws.dir, 'prefs.jsonl');
const rows = [
  { prompt: 'Say yes:', chosen: ' yes', rejected: ' no' },
  { prompt: 'Greet:', chosen: ' hello there', rejected: ' go away' },
  { prompt: 'Count:', chosen: ' 1 2 3', rejected: ' 3 3 3' },
  { prompt: 'Agree?', chosen: ' sure', rejected: ' never' },
];
writeFileSync(prefs, rows.map((r) => JSON.stringify(r)).join('\n'));
const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('whetstone train --objective dpo', () => {
  it('learns the preferences, and eval scores the saved adapter as the run did', () => {
    const out = join(ws.dir, 'dpo-lora');
    const common = ['--model', ws.model, '--data', prefs, '--seq-len', '32', '--json'];
    const lines = jsonLines(
      whetstone(
        'train',
        ...common,
        '--out',
        out,
        '--objective',
        'dpo',
        '--dpo-beta',
        '0.5',
        '--method',
        'lora',
        '--lr',
        '0.02',
        '--lr-schedule',
        'constant',
        '--steps',
        '16',
        '--batch-size',
        '4',
        '--validation',
        prefs,
      ),
    );
    const steps = lines.filter((l) => typeof l.loss === 'number' && typeof l.step === 'number');
    expect(steps[0]?.loss).toBeCloseTo(Math.LN2, 4);
    expect(steps[0]?.rewards_margin).toBeCloseTo(0, 4);
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({
      done: true,
      objective: 'dpo',
      dpo_beta: 0.5,
      train_pairs: 4,
      validation_pairs: 4,
    });
    // Stated: from log 2 to below 0.3 in 16 steps, every pair preferred.
    expect(summary.final_loss as number).toBeLessThan(0.3);
    const lastEval = lines.filter((l) => typeof l.eval_tokens === 'number').at(-1)!;
    expect(lastEval.eval_rewards_accuracy).toBe(1);
    expect(adapterConfig(out)).toMatchObject({ peft_type: 'LORA' });

    const scored = jsonLines(
      whetstone('eval', ...common, '--adapter', out, '--objective', 'dpo', '--dpo-beta', '0.5'),
    )[0]!;
    expect(scored).toMatchObject({ objective: 'dpo', pairs: 4, rewards_accuracy: 1 });
    expect(scored.loss as number).toBeCloseTo(lastEval.eval_loss as number, 4);
  }, 300_000);

  it('refuses packing, an SFT file and eval without an adapter, by name', () => {
    const args = ['--model', ws.model, '--out', join(ws.dir, 'x'), '--objective', 'dpo', '--steps', '1'];
    const packing = spawnWhetstone('train', ...args, '--data', prefs, '--packing');
    expect(packing.status).toBe(2);
    expect(packing.stderr).toMatch(/DPO scores each response whole/);
    const sft = spawnWhetstone('train', ...args, '--data', ws.data);
    expect(sft.status).toBe(1);
    expect(sft.stderr).toMatch(/chosen|preference/i);
    const beta = spawnWhetstone(
      'train',
      '--model',
      ws.model,
      '--data',
      prefs,
      '--out',
      'x',
      '--dpo-beta',
      '0.1',
    );
    expect(beta.status).toBe(2);
    expect(beta.stderr).toMatch(/--dpo-beta needs --objective dpo/);
    const evalRun = spawnWhetstone('eval', '--model', ws.model, '--data', prefs, '--objective', 'dpo');
    expect(evalRun.status).toBe(2);
    expect(evalRun.stderr).toMatch(/give --adapter DIR/);
  });
});
