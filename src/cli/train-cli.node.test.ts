/**
 * `whetstone train`, `eval --adapter` and `merge` as a user runs them, on a tiny model written to disk:
 * one SGD step of full fine-tuning is exactly the gradient-descent update (reference: tfjs autograd);
 * a LoRA adapter exported and imported again gives the trainer's own validation loss; and the merged
 * model gives the loss of base plus adapter; the same model and adapter saved as torch pickles
 * (pytorch_model.bin, adapter_model.bin, when python3 is there to write them) give the same loss.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../train/io/checkpoint';
import { filesFromFolder } from '../train/io/node-model-files';
import { python3Available, torchBinOf } from '../train/io/testing/torch-bin';
import { lossOf, type Params } from '../train/models/reference/tfjs-causal-lm';

const bin = new URL('../../bin/whetstone.mjs', import.meta.url).pathname;

function whetstone(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  const run = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`whetstone ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  return run.stdout;
}

const dir = mkdtempSync(join(tmpdir(), 'whetstone-train-'));
const model = join(dir, 'model');
const texts = ['Hello, world!', 'Whetstone trains in the browser.', 'ok'];
const data = join(dir, 'train.jsonl');
const validation = join(dir, 'validation.jsonl');

beforeAll(async () => {
  await tf.setBackend('cpu');
  execFileSync(process.execPath, [
    bin,
    'make-tiny-model',
    '--family',
    'llama',
    '--out',
    model,
    '--seed',
    '3',
  ]);
  writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join('\n'));
  writeFileSync(validation, JSON.stringify({ text: 'Hello, browser!' }));
});

async function referenceParams(folder: string) {
  const checkpoint = await openCheckpoint(filesFromFolder(folder));
  const params: Params = new Map();
  for (const [name, w] of checkpoint.weights)
    params.set(name, tf.variable(tf.tensor(await checkpoint.read(name), w.shape)));
  return { checkpoint, params };
}

describe('whetstone train', () => {
  it('one SGD step of full fine-tuning writes exactly the gradient-descent update', async () => {
    const out = join(dir, 'full');
    const lines = whetstone(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--method',
      'full',
      '--out',
      out,
      '--optimizer',
      'sgd',
      '--lr',
      '0.5',
      '--lr-schedule',
      'constant',
      '--max-grad-norm',
      '0',
      '--no-shuffle',
      '--steps',
      '1',
      '--batch-size',
      '3',
      '--seq-len',
      '64',
      '--json',
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ step: 1 });
    expect(lines.at(-1)).toMatchObject({ done: true, method: 'full', steps: 1 });
    expect(readdirSync(out)).toEqual(
      expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']),
    );

    const base = await referenceParams(model);
    const trained = await referenceParams(out);
    const ids = texts.map((text) => [256, ...new TextEncoder().encode(text), 257]);
    const T = Math.max(...ids.map((r) => r.length));
    const pad = (r: number[], fill: number) => [...r, ...Array(T - r.length).fill(fill)];
    const batch = {
      ids: ids.map((r) => pad(r, 0)),
      attentionMask: ids.map((r) =>
        pad(
          r.map(() => 1),
          0,
        ),
      ),
      labels: ids.map((r) => pad(r, -100)),
    };
    const { value, grads } = tf.variableGrads(() => lossOf(base.checkpoint.config, base.params, batch), [
      ...base.params.values(),
    ] as tf.Variable[]);
    expect(lines[0].loss).toBeCloseTo((await value.data())[0] as number, 4);
    for (const [name, variable] of base.params) {
      const g = await (grads[(variable as tf.Variable).name] as tf.Tensor).data();
      const before = await variable.data();
      const after = await (trained.params.get(name) as tf.Tensor).data();
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < g.length; i++) {
        scale = Math.max(scale, Math.abs(0.5 * (g[i] as number)));
        worst = Math.max(
          worst,
          Math.abs((after[i] as number) - ((before[i] as number) - 0.5 * (g[i] as number))),
        );
      }
      expect(worst / scale, name).toBeLessThan(1e-4);
    }
  });

  it('a LoRA adapter round-trips through PEFT format, and merges into the same model', () => {
    const out = join(dir, 'lora');
    const lines = whetstone(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--validation',
      validation,
      '--method',
      'lora',
      '--out',
      out,
      '--lora-r',
      '4',
      '--lora-alpha',
      '8',
      '--target-modules',
      'all-linear',
      '--lr',
      '0.02',
      '--steps',
      '4',
      '--batch-size',
      '2',
      '--seq-len',
      '64',
      '--json',
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const trainedEval = lines.find((l) => 'eval_loss' in l && 'step' in l)?.eval_loss as number;
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const adapterConfig = JSON.parse(
      whetstone('eval', '--model', model, '--adapter', out, '--data', validation, '--json'),
    );
    expect(Math.abs(adapterConfig.loss - trainedEval)).toBeLessThan(1e-4 * trainedEval);
    const base = JSON.parse(whetstone('eval', '--model', model, '--data', validation, '--json'));
    expect(Math.abs(base.loss - trainedEval)).toBeGreaterThan(1e-3);

    const merged = join(dir, 'merged');
    whetstone('merge', '--model', model, '--adapter', out, '--out', merged);
    const mergedEval = JSON.parse(whetstone('eval', '--model', merged, '--data', validation, '--json'));
    expect(Math.abs(mergedEval.loss - adapterConfig.loss)).toBeLessThan(1e-4 * adapterConfig.loss);

    // The same model and adapter as older tools saved them (pytorch_model.bin, adapter_model.bin).
    if (!python3Available) return;
    const pickledModel = join(dir, 'pickled-model');
    mkdirSync(pickledModel);
    for (const name of readdirSync(model).filter((n) => n !== 'model.safetensors'))
      copyFileSync(join(model, name), join(pickledModel, name));
    const weights = readFileSync(join(model, 'model.safetensors'));
    writeFileSync(join(pickledModel, 'pytorch_model.bin'), torchBinOf(weights, 'legacy'));
    const pickledAdapter = join(dir, 'pickled-adapter');
    mkdirSync(pickledAdapter);
    copyFileSync(join(out, 'adapter_config.json'), join(pickledAdapter, 'adapter_config.json'));
    const adapterWeights = readFileSync(join(out, 'adapter_model.safetensors'));
    writeFileSync(join(pickledAdapter, 'adapter_model.bin'), torchBinOf(adapterWeights, 'zip'));
    const pickled = JSON.parse(
      whetstone('eval', '--model', pickledModel, '--adapter', pickledAdapter, '--data', validation, '--json'),
    );
    expect(pickled.loss).toBe(adapterConfig.loss);
  });

  it('refuses an unknown method, naming the ones there are', () => {
    const run = spawnSync(
      process.execPath,
      [bin, 'train', '--model', model, '--data', data, '--method', 'bitfit', '--out', join(dir, 'x')],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--method must be one of full, lora, dora, ia3, prefix, prompt, adapter/);
  });
});
