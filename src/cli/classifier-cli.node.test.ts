/**
 * `whetstone train --task classification` and `whetstone eval --task classification` as a user runs them,
 * on a tiny BERT written to disk and a sentence-pair TSV in MRPC's own layout (Quality, #1 ID, #2 ID,
 * #1 String, #2 String): full fine-tuning and every PEFT method (LoRA, DoRA, IA3, prompt, prefix,
 * bottleneck) report accuracy and F1 on the validation file every epoch, and evaluating what they wrote
 * (the HF folder; the base model with the adapter folder) gives back exactly the metrics of the
 * trainer's last evaluation.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../gpu/testing/random';
import { tinyEncoderFiles } from '../train/fixtures/tiny-encoders';

const bin = new URL('../../bin/whetstone.mjs', import.meta.url).pathname;

function whetstone(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  const run = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`whetstone ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  return run.stdout;
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
  // One method per adapter folder kind (HF model, PEFT LoRA, PEFT prompt learning, Whetstone's own);
  // DoRA, IA3 and prompt tuning reload through the same loaders, checked in encoder-peft.node.test.ts.
  it.each(['full', 'lora', 'prefix', 'bottleneck'])(
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
