/**
 * `whetstone train --task classification` and `whetstone eval --task classification` as a user runs them,
 * on a tiny BERT written to disk and a sentence-pair TSV in MRPC's own layout (Quality, #1 ID, #2 ID,
 * #1 String, #2 String): full fine-tuning and every PEFT method (LoRA, DoRA, IA3, prompt, prefix,
 * bottleneck) report accuracy and F1 on the validation file every epoch, and evaluating what they wrote
 * (the HF folder; the base model with the adapter folder) gives back exactly the metrics of the
 * trainer's last evaluation. Checkpoints: a LoRA run (dropout on, AdamW, shuffled, 2 micro-batches per
 * update crossing epochs' ends) of 8 updates checkpointed at 4, cut back to that checkpoint and resumed,
 * gives the uninterrupted run's update losses, epoch lines and saved weights (1e-6); a resume with
 * another LoRA rank is refused by name.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../gpu/testing/random';
import { tinyEncoderFiles } from '../train/fixtures/tiny-encoders';
import { parseSafetensorsHeader, toFloat32 } from '../train/io/safetensors';

const bin = new URL('../../bin/whetstone.mjs', import.meta.url).pathname;

function run(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
}

function whetstone(...args: string[]) {
  const done = run(...args);
  if (done.status !== 0)
    throw new Error(`whetstone ${args.join(' ')} failed (${done.status}):\n${done.stderr}`);
  return done.stdout;
}

const dir = mkdtempSync(join(tmpdir(), 'whetstone-classify-'));
const model = join(dir, 'model');
const train = join(dir, 'msr_paraphrase_train.txt');
const validation = join(dir, 'msr_paraphrase_test.txt');

/** MRPC's header and columns; Quality 1 when both sentences name an animal. */
function mrpcTsv(count: number, seed: number): string {
  const random = seededRandom(seed);
  const things = ['cat', 'dog', 'mat'];
  const pick = () => things[Math.floor(random() * 3)] as string;
  const rows = Array.from({ length: count }, (_, i) => {
    const [x, y] = [pick(), pick()];
    const quality = x !== 'mat' && y !== 'mat' ? 1 : 0;
    return `${quality}\t${1000 + i}\t${2000 + i}\tThe ${x} sat .\tOn the ${y} !`;
  });
  return `\uFEFFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n${rows.join('\n')}\n`;
}

beforeAll(() => {
  mkdirSync(model);
  for (const [name, content] of Object.entries(
    tinyEncoderFiles({ family: 'bert', layers: 1, heads: 2, withHead: false }),
  ))
    writeFileSync(join(model, name), content);
  writeFileSync(train, mrpcTsv(40, 1));
  writeFileSync(validation, mrpcTsv(20, 2));
});

const jsonLines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('whetstone train/eval --task classification', () => {
  // The two folder kinds of the command line's own save and load (an HF model, a PEFT adapter); prompt
  // learning, Whetstone's bottleneck folder, DoRA and IA3 save and reload through the same writers and
  // loaders, each round-tripped in encoder-peft.node.test.ts (suite time: each method here is two spawns).
  it.each(['full', 'lora'])(
    '%s: metrics every epoch, and eval of the saved result gives the same',
    (method) => {
      const out = join(dir, method);
      const lines = jsonLines(
        whetstone(
          'train',
          '--task',
          'classification',
          '--model',
          model,
          '--data',
          train,
          '--validation',
          validation,
          '--method',
          method,
          '--out',
          out,
          '--epochs',
          '2',
          '--batch-size',
          '16',
          '--lr',
          '1e-3',
          '--num-virtual-tokens',
          '4',
          '--reduction-factor',
          '4',
          '--json',
        ),
      );
      const epochs = lines.filter((l) => 'epoch' in l);
      expect(epochs.map((l) => l.epoch)).toEqual([1, 2]);
      for (const l of epochs) {
        expect(l.eval.rows).toBe(20);
        expect(l.eval.accuracy).toBeGreaterThanOrEqual(0);
        expect(l.eval.accuracy).toBeLessThanOrEqual(1);
        expect(Number.isFinite(l.eval.f1)).toBe(true);
        expect(l.eval.confusion_matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(20);
      }
      const summary = lines.at(-1);
      expect(summary).toMatchObject({
        done: true,
        method,
        train_rows: 40,
        validation_rows: 20,
        labels: [0, 1],
      });

      const evalArgs = method === 'full' ? ['--model', out] : ['--model', model, '--adapter', out];
      expect(readdirSync(out).sort()).toEqual(
        method === 'full'
          ? ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']
          : method === 'bottleneck'
            ? ['whetstone_adapter.safetensors', 'whetstone_adapter_config.json']
            : ['adapter_config.json', 'adapter_model.safetensors'],
      );
      const evaluated = JSON.parse(
        whetstone('eval', '--task', 'classification', ...evalArgs, '--data', validation, '--json'),
      );
      expect(Object.keys(evaluated)).toEqual(expect.arrayContaining(['loss', 'accuracy', 'f1']));
      expect(evaluated.accuracy).toBe(summary.eval.accuracy);
      expect(evaluated.f1).toBeCloseTo(summary.eval.f1, 12);
      expect(evaluated.confusion_matrix).toEqual(summary.eval.confusion_matrix);
      expect(Math.abs(evaluated.loss - summary.eval.loss)).toBeLessThan(1e-5);
    },
    600_000,
  );
});

/** Every tensor of a safetensors file, by name. */
function tensors(file: string): Map<string, Float32Array> {
  const bytes = readFileSync(file);
  return new Map(
    parseSafetensorsHeader(file, bytes).map((t) => [
      t.name,
      toFloat32(t, bytes.subarray(t.begin, t.end), file),
    ]),
  );
}

function largestDifference(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
  return worst;
}

describe('whetstone train --task classification --checkpoint-every / --resume', () => {
  // 40 rows in micro-batches of 8: 5 per epoch, 2 per update, 3 epochs: 15 micro-batches in 8 updates
  // (the last takes the one left); updates 3 and 5 cross an epoch's end.
  const flags = (out: string, rank: string, ...more: string[]) => [
    'train',
    '--task',
    'classification',
    '--model',
    model,
    '--data',
    train,
    '--validation',
    validation,
    '--method',
    'lora',
    '--lora-r',
    rank,
    '--out',
    out,
    '--epochs',
    '3',
    '--batch-size',
    '8',
    '--grad-accum',
    '2',
    '--lr',
    '1e-2',
    '--seed',
    '3',
    '--json',
    ...more,
  ];

  it('8 updates straight equal 4, a crash, and a resume for the last 4; other LoRA settings are refused', () => {
    const straightOut = join(dir, 'ckpt-straight');
    const checkpoints = `${straightOut}-checkpoints`;
    const straight = jsonLines(whetstone(...flags(straightOut, '8', '--checkpoint-every', '4')));
    expect(straight.filter((l) => 'checkpoint' in l)).toEqual([
      { step: 4, checkpoint: join(checkpoints, 'checkpoint-4') },
      { step: 8, checkpoint: join(checkpoints, 'checkpoint-8') },
    ]);
    const steps = (lines: typeof straight) => lines.filter((l) => 'loss' in l && 'step' in l);
    expect(steps(straight).map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const epochs = (lines: typeof straight) => lines.filter((l) => 'epoch' in l);
    expect(epochs(straight).map((l) => l.epoch)).toEqual([1, 2, 3]);
    expect(straight.at(-1)).toMatchObject({ done: true, steps: 8 });

    // The run dies after checkpoint 4: resume from it.
    rmSync(join(checkpoints, 'checkpoint-8'), { recursive: true });
    const resumedOut = join(dir, 'ckpt-resumed');
    const resumed = jsonLines(
      whetstone(...flags(resumedOut, '8', '--checkpoint-every', '4', '--resume', checkpoints)),
    );
    expect(resumed[0]).toEqual({ resumed_from: join(checkpoints, 'checkpoint-4'), step: 4 });
    const curve = (lines: typeof straight) => steps(lines).map((l) => [l.step, l.loss, l.lr, l.grad_norm]);
    const want = curve(straight).slice(4);
    expect(curve(resumed).map(([step]) => step)).toEqual([5, 6, 7, 8]);
    expect(largestDifference(curve(resumed).flat(), want.flat())).toBeLessThanOrEqual(1e-6);
    // Epoch 2 began before the checkpoint: its training loss counts the update saved with it.
    const epochLine = (l: (typeof straight)[number]) => [l.epoch, l.train_loss, l.eval.loss, l.eval.accuracy];
    expect(epochs(resumed).map((l) => l.epoch)).toEqual([2, 3]);
    expect(
      largestDifference(epochs(resumed).flatMap(epochLine), epochs(straight).slice(1).flatMap(epochLine)),
    ).toBeLessThanOrEqual(1e-6);
    expect(resumed.at(-1).eval.confusion_matrix).toEqual(straight.at(-1).eval.confusion_matrix);
    const weights = (out: string) => tensors(join(out, 'adapter_model.safetensors'));
    const [got, wanted] = [weights(resumedOut), weights(straightOut)];
    expect([...got.keys()].sort()).toEqual([...wanted.keys()].sort());
    expect([...got.keys()].some((k) => /classifier/.test(k))).toBe(true);
    for (const [name, w] of wanted)
      expect(largestDifference(got.get(name) as Float32Array, w), name).toBeLessThanOrEqual(1e-6);

    const refused = run(...flags(join(dir, 'ckpt-other'), '4', '--resume', checkpoints));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /CheckpointError: .*checkpoint-8 was written with other lora settings: r \(checkpoint 8, now 4\)/,
    );
  }, 300_000);
});
