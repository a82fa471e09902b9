/**
 * QLoRA from the command line: `train --method lora --quantize nf4` learns on a base whose layer
 * matrices are 4-bit NormalFloat, `eval --quantize nf4 --adapter` scores the adapter as the trainer did,
 * `plan` counts the smaller weights, and what cannot be quantized, or resumed on another base, is refused by name.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tinyEncoderFiles } from '../train/fixtures/tiny-encoders';
import {
  adapterConfig,
  evalLoss,
  expectSameLoss,
  spawnWhetstone,
  tinyCliWorkspace,
  trainAdapter,
  whetstone,
} from './testing/cli-method-test';

const ws = tinyCliWorkspace('qlora', 3);
const quantized = ['--quantize', 'nf4'];

const evalQuantized = (adapter?: string): number =>
  JSON.parse(
    whetstone(
      'eval',
      ...['--model', ws.model, ...(adapter ? ['--adapter', adapter] : []), '--data', ws.validation],
      ...quantized,
      '--json',
    ),
  ).loss;

describe('whetstone train --quantize nf4 (QLoRA)', () => {
  it('learns on an NF4 base, and eval on that base agrees with the trainer', () => {
    const base = evalQuantized();
    const full = evalLoss(ws, ws.model);
    // The same random model, quantized: close to, but not exactly, its f32 loss.
    expect(Math.abs(base - full)).toBeGreaterThan(1e-5);
    expect(Math.abs(base - full)).toBeLessThan(0.05 * full);
    const { out, lines, trainedEval } = trainAdapter(
      ws,
      'lora',
      ['--lora-r', '8', '--lr', '0.1', ...quantized],
      'qlora',
      { steps: 30, batchSize: 3 },
    );
    expect(adapterConfig(out)).toMatchObject({ peft_type: 'LORA', target_modules: ['q_proj', 'v_proj'] });
    const losses = lines.filter((l) => typeof l.loss === 'number').map((l) => l.loss as number);
    // From a random model's ~5.7 to below the stated 4 (3.77 measured; unquantized LoRA reaches 3.69).
    expect(losses[0]).toBeGreaterThan(5);
    expect(losses.at(-1)).toBeLessThan(4);
    expect(trainedEval).toBeLessThan(base);
    expectSameLoss(evalQuantized(out), trainedEval);
  }, 300_000);

  it('plans the layer matrices at 4.5 bits a weight', () => {
    const plan = (...flags: string[]) =>
      JSON.parse(whetstone('plan', '--model', ws.model, '--method', 'lora', ...flags, '--json'));
    const f32 = plan();
    const nf4 = plan(...quantized);
    expect(nf4.nf4_weights).toBe(true);
    expect(f32.nf4_weights).toBe(false);
    expect(nf4.components.weights).toBeLessThan(0.75 * f32.components.weights);
  });

  it('refuses full fine-tuning on a quantized base, other quantizations, and classifiers, by name', () => {
    const refused = (...args: string[]) => {
      const run = spawnWhetstone(...args);
      expect(run.status).toBe(2);
      return run.stderr;
    };
    const train = ['train', '--model', ws.model, '--data', ws.data, '--out', join(ws.dir, 'x')];
    expect(refused(...train, '--method', 'full', ...quantized)).toMatch(
      /--quantize nf4 quantizes a frozen base, and full fine-tuning trains every weight in f32/,
    );
    expect(refused(...train, '--quantize', 'int8')).toMatch(/--quantize int8: the one quantization is nf4/);
    expect(refused(...train, '--task', 'classification', ...quantized)).toMatch(
      /applies to decoder language models/,
    );
    const bert = join(ws.dir, 'bert-config.json');
    writeFileSync(bert, tinyEncoderFiles({ family: 'bert' })['config.json'] as string);
    expect(refused('plan', '--model', bert, '--method', 'lora', ...quantized)).toMatch(
      /applies to decoder language models; encoder classifiers load in f32/,
    );
  });

  it('refuses to resume a QLoRA run on an unquantized base', () => {
    const checkpoints = join(ws.dir, 'resume-checkpoints');
    const run = [
      ...['train', '--model', ws.model, '--data', ws.data, '--method', 'lora', '--out', join(ws.dir, 'r')],
      ...['--steps', '1', '--batch-size', '2', '--seq-len', '64', '--checkpoint-every', '1'],
      ...['--checkpoint-dir', checkpoints],
    ];
    whetstone(...run, ...quantized);
    const resumed = spawnWhetstone(...run, '--resume');
    expect(resumed.status).toBe(1);
    expect(resumed.stderr).toMatch(/baseQuantization \(checkpoint "nf4", now unset\)/);
  }, 300_000);
});
