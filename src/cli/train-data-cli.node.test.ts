/**
 * `whetstone train`, `eval` and `data` on real dataset files, as a user runs them: an Alpaca JSON array
 * trains only on the answers (prompt masking through the model's ChatML template), checked against a
 * tfjs reference loss whose labels are built here by hand, and the plain gradient-descent update of that
 * masked loss; --no-mask-prompt trains on everything; a CSV with a bad row stops with its line, or with
 * --skip-bad-rows is counted, split by --validation-fraction and evaluated over its trained tokens.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../train/io/checkpoint';
import { filesFromFolder } from '../train/io/node-model-files';
import { lossOf, type Params } from '../train/models/reference/tfjs-causal-lm';

const bin = new URL('../../bin/whetstone.mjs', import.meta.url).pathname;

function run(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
}

function whetstone(...args: string[]) {
  const result = run(...args);
  if (result.status !== 0)
    throw new Error(`whetstone ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

const jsonLines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

const dir = mkdtempSync(join(tmpdir(), 'whetstone-train-data-'));
const model = join(dir, 'model');
const alpaca = [
  { instruction: 'Add the numbers.', input: '1, 2', output: '3' },
  { instruction: 'Say hello.', input: '', output: 'Hello!' },
];
const alpacaFile = join(dir, 'alpaca.json');
const csvFile = join(dir, 'qa.csv');

/** The byte tokenizer's ids of the ChatML rendering, with the labels of the answer turns only. */
function chatmlExample(instruction: string, input: string, output: string) {
  const user = input ? `${instruction}\n\n${input}` : instruction;
  const prompt = `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;
  const answer = `${output}<|im_end|>\n`;
  const promptIds = [...new TextEncoder().encode(prompt)];
  const answerIds = [...new TextEncoder().encode(answer)];
  const ids = [...promptIds, ...answerIds];
  return { ids, masked: [...promptIds.map(() => -100), ...answerIds] };
}

function batchOf(rows: { ids: number[]; labels: number[] }[]) {
  const T = Math.max(...rows.map((r) => r.ids.length));
  const pad = (r: number[], fill: number) => [...r, ...Array(T - r.length).fill(fill)];
  return {
    ids: rows.map((r) => pad(r.ids, 0)),
    attentionMask: rows.map((r) =>
      pad(
        r.ids.map(() => 1),
        0,
      ),
    ),
    labels: rows.map((r) => pad(r.labels, -100)),
  };
}

async function referenceParams(folder: string) {
  const checkpoint = await openCheckpoint(filesFromFolder(folder));
  const params: Params = new Map();
  for (const [name, w] of checkpoint.weights)
    params.set(name, tf.variable(tf.tensor(await checkpoint.read(name), w.shape)));
  return { checkpoint, params };
}

const sgdStep = (data: string, out: string, ...extra: string[]) =>
  jsonLines(
    whetstone(
      'train',
      ...[
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
      ],
      ...[
        '--lr-schedule',
        'constant',
        '--max-grad-norm',
        '0',
        '--no-shuffle',
        '--steps',
        '1',
        '--batch-size',
        '2',
      ],
      ...['--seq-len', '128', '--json', ...extra],
    ),
  );

beforeAll(async () => {
  await tf.setBackend('cpu');
  whetstone('make-tiny-model', '--family', 'llama', '--out', model, '--seed', '3');
  writeFileSync(alpacaFile, JSON.stringify(alpaca, null, 2));
  writeFileSync(
    csvFile,
    'prompt,completion\r\n"Q: 2+2, then?",A: 4\r\nQ: sky?,A: blue\r\n"broken,row\r\nQ: grass?,A: green\r\nQ: sun?,A: hot\r\nQ: snow?,A: cold\r\n',
  );
});

describe('whetstone train on an Alpaca JSON array, through the chat template', () => {
  it('with prompt masking (the default): the loss of the answers alone, and its exact SGD update', async () => {
    const out = join(dir, 'masked');
    const lines = sgdStep(alpacaFile, out);
    const summary = lines.at(-1);
    const examples = alpaca.map((r) => chatmlExample(r.instruction, r.input, r.output));
    expect(summary).toMatchObject({
      done: true,
      data_format: 'json',
      schema: 'alpaca',
      template: 'model',
      mask_prompt: true,
      train_rows: 2,
      validation_rows: 0,
      bad_rows: 0,
      truncated: 0,
      untrained: 0,
      trained_tokens: examples.reduce((n, e) => n + e.masked.filter((l) => l !== -100).length, 0),
    });

    const base = await referenceParams(model);
    const config = base.checkpoint.config;
    const maskedBatch = batchOf(examples.map((e) => ({ ids: e.ids, labels: e.masked })));
    const allBatch = batchOf(examples.map((e) => ({ ids: e.ids, labels: e.ids })));
    const unmaskedLoss = (await lossOf(config, base.params, allBatch).data())[0] as number;
    const { value, grads } = tf.variableGrads(() => lossOf(config, base.params, maskedBatch), [
      ...base.params.values(),
    ] as tf.Variable[]);
    const maskedLoss = (await value.data())[0] as number;
    // A random model's per-token losses are all near ln V, so the two means differ little; still by
    // more than 20 times the tolerance below, which therefore tells them apart. The SGD update after it
    // (the gradient of the masked loss) tells them apart far more sharply.
    expect(Math.abs(maskedLoss - unmaskedLoss)).toBeGreaterThan(20 * 1e-4 * maskedLoss);
    expect(Math.abs(lines[0].loss - maskedLoss)).toBeLessThan(1e-4 * maskedLoss);

    const trained = await referenceParams(out);
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

    // --no-mask-prompt: every token trained, the loss of the whole rendering.
    const unmasked = sgdStep(alpacaFile, join(dir, 'unmasked'), '--no-mask-prompt');
    expect(unmasked.at(-1)).toMatchObject({ mask_prompt: false });
    expect(Math.abs(unmasked[0].loss - unmaskedLoss)).toBeLessThan(1e-4 * unmaskedLoss);
  });
});

describe('whetstone train, eval and data on a CSV with a bad row', () => {
  it('stops at the bad row with its file and line, unless told to skip it', () => {
    const stopped = run(
      'train',
      '--model',
      model,
      '--data',
      csvFile,
      '--method',
      'lora',
      '--out',
      join(dir, 'x'),
    );
    expect(stopped.status).toBe(1);
    expect(stopped.stderr).toMatch(/DatasetRowError: .*qa\.csv, line 4: Quoted field unterminated/);
  });

  it('skips and counts it, holds out a seeded validation share, and evaluates over the trained tokens', () => {
    const out = join(dir, 'lora');
    const lines = jsonLines(
      whetstone(
        'train',
        ...['--model', model, '--data', csvFile, '--method', 'lora', '--out', out, '--steps', '1'],
        ...['--skip-bad-rows', '--validation-fraction', '0.25', '--seed', '5', '--seq-len', '32', '--json'],
      ),
    );
    const summary = lines.at(-1);
    // The unterminated quote swallows the rest of the file, so two good rows remain: one held out.
    expect(summary).toMatchObject({
      schema: 'prompt-completion',
      bad_rows: 1,
      train_rows: 1,
      validation_rows: 1,
    });
    expect(typeof summary.eval_loss).toBe('number');

    const evaluated = JSON.parse(
      whetstone('eval', '--model', model, '--data', csvFile, '--skip-bad-rows', '--json'),
    );
    // "Q: 2+2, then?" + "A: 4" + EOS, BOS first: only "A: 4" and EOS are trained; the same for "Q: sky?".
    expect(evaluated).toMatchObject({
      rows: 2,
      bad_rows: 1,
      tokens: 'A: 4'.length + 1 + 'A: blue'.length + 1,
    });
    expect(evaluated.trained_tokens).toBe(evaluated.tokens);
    const unmasked = JSON.parse(
      whetstone('eval', '--model', model, '--data', csvFile, '--skip-bad-rows', '--no-mask-prompt', '--json'),
    );
    // BOS + text + EOS per example; every label but the first (BOS, never predicted) enters the loss.
    expect(unmasked.tokens).toBe('Q: 2+2, then?A: 4'.length + 1 + 'Q: sky?A: blue'.length + 1);

    // --packing: the two examples (19 and 16 tokens, each ending in EOS) as one stream cut into rows of 8.
    const packed = JSON.parse(
      whetstone(
        'eval',
        '--model',
        model,
        '--data',
        csvFile,
        '--skip-bad-rows',
        '--packing',
        '--seq-len',
        '8',
        '--json',
      ),
    );
    expect(packed).toMatchObject({ packing: true, rows: Math.ceil((19 + 16) / 8), truncated: 0 });

    const report = JSON.parse(whetstone('data', '--data', csvFile, '--model', model, '--json'));
    expect(report).toMatchObject({ format: 'csv', rows: 3, bad_rows: 1, examples: 2 });
    expect(report.bad_row_samples[0]).toMatchObject({ line: 4, error: 'DatasetRowError' });
  });
});
