/**
 * `whetstone train --checkpoint-every N` and `--resume` as a user runs them, on a tiny Llama written to
 * disk (LoRA with dropout, AdamW, shuffled, a linear schedule, so the data order, masks, moments and rate
 * all have to be restored): 4 steps straight give the same step lines and byte-identical adapter as 2
 * steps, a crash, and a resume for the last 2; a resume with other flags (a training setting, or the
 * method's own: the LoRA rank) is refused by name. The --json
 * step lines carry every streamed metric, each checked against what it must be.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensorsHeader } from '../train/io/safetensors';

const bin = new URL('../../bin/whetstone.mjs', import.meta.url).pathname;

function run(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
}

function jsonLines(...args: string[]): Record<string, number | string | null>[] {
  const result = run(...args);
  if (result.status !== 0)
    throw new Error(`whetstone ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

const dir = mkdtempSync(join(tmpdir(), 'whetstone-ckpt-cli-'));
const model = join(dir, 'model');
const data = join(dir, 'train.jsonl');

beforeAll(() => {
  execFileSync(process.execPath, [
    bin,
    'make-tiny-model',
    '--family',
    'llama',
    '--out',
    model,
    '--seed',
    '4',
  ]);
  const texts = ['Hello, world!', 'Whetstone trains in the browser.', 'ok', 'a fourth example'];
  writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join('\n'));
});

const runFlags = [
  'train',
  '--model',
  model,
  '--data',
  data,
  '--method',
  'lora',
  '--lora-r',
  '4',
  '--lora-alpha',
  '8',
  '--lora-dropout',
  '0.1',
  '--target-modules',
  'all-linear',
  '--lr',
  '0.02',
  '--lr-schedule',
  'linear',
  '--steps',
  '4',
  '--batch-size',
  '1',
  '--seq-len',
  '32',
  '--seed',
  '5',
  '--json',
];

/** Element count of every tensor in a safetensors file. */
function elementCount(file: string): number {
  return parseSafetensorsHeader(file, readFileSync(file)).reduce(
    (n, t) => n + t.shape.reduce((a, b) => a * b, 1),
    0,
  );
}

describe('checkpoints and resume through the CLI', () => {
  const straightOut = join(dir, 'straight');
  const checkpoints = `${straightOut}-checkpoints`;
  let straight: Record<string, number | string | null>[] = [];

  it('4 steps straight equal 2 steps, a crash, and a resume for the last 2', () => {
    straight = jsonLines(...runFlags, '--out', straightOut, '--checkpoint-every', '2');
    expect(straight.filter((l) => 'checkpoint' in l)).toEqual([
      { step: 2, checkpoint: join(checkpoints, 'checkpoint-2') },
      { step: 4, checkpoint: join(checkpoints, 'checkpoint-4') },
    ]);
    expect(readdirSync(checkpoints).sort()).toEqual(['checkpoint-2', 'checkpoint-4']);
    expect(readdirSync(join(checkpoints, 'checkpoint-2')).sort()).toEqual([
      'checkpoint.safetensors',
      'trainer_state.json',
    ]);

    // The run dies during step 3 or while writing checkpoint 4: the last complete checkpoint is step 2,
    // with the half-written one left as a temporary folder.
    rmSync(join(checkpoints, 'checkpoint-4'), { recursive: true });
    mkdirSync(join(checkpoints, '.checkpoint-4.tmp-12345'));
    writeFileSync(join(checkpoints, '.checkpoint-4.tmp-12345', 'checkpoint.safetensors'), 'trunc');

    const resumedOut = join(dir, 'resumed');
    const resumed = jsonLines(
      ...runFlags,
      '--out',
      resumedOut,
      '--checkpoint-every',
      '2',
      '--resume',
      checkpoints,
    );
    expect(resumed[0]).toEqual({ resumed_from: join(checkpoints, 'checkpoint-2'), step: 2 });
    const stepLines = (lines: typeof straight) => lines.filter((l) => 'loss' in l);
    const pick = (l: (typeof straight)[number]) => [l.step, l.loss, l.lr, l.grad_norm];
    expect(stepLines(resumed).map(pick)).toEqual(stepLines(straight).slice(2).map(pick));
    const adapter = (out: string) => readFileSync(join(out, 'adapter_model.safetensors'));
    expect(Buffer.compare(adapter(resumedOut), adapter(straightOut))).toBe(0);
    // The resumed run wrote its own checkpoint 4 and cleared the stray temporary folder.
    expect(readdirSync(checkpoints).sort()).toEqual(['checkpoint-2', 'checkpoint-4']);
    // Several CLI runs, each starting Dawn and compiling its pipelines; slow on shared CPUs.
  }, 300_000);

  it('refuses to resume with other settings, naming them', () => {
    const other = run(
      ...runFlags.map((f) => (f === '0.02' ? '0.03' : f)),
      '--out',
      join(dir, 'x'),
      '--resume',
      checkpoints,
    );
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(
      /CheckpointError: .*checkpoint-4 was written with other settings: lr \(checkpoint 0\.02, now 0\.03\)/,
    );
    // The method's own settings are in the checkpoint too: another LoRA rank is refused by name.
    const rank = run(
      ...runFlags.map((f, i) => (runFlags[i - 1] === '--lora-r' ? '8' : f)),
      '--out',
      join(dir, 'x'),
      '--resume',
      checkpoints,
    );
    expect(rank.status).toBe(1);
    expect(rank.stderr).toMatch(
      /CheckpointError: .*checkpoint-4 was written with other lora settings: r \(checkpoint 4, now 8\)/,
    );
    const none = run(...runFlags, '--out', join(dir, 'y'), '--resume');
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/No checkpoint to resume from in .*y-checkpoints/);
    const lonely = run(...runFlags, '--out', join(dir, 'z'), '--checkpoint-dir', join(dir, 'c'));
    expect(lonely.status).toBe(2);
    expect(lonely.stderr).toMatch(/--checkpoint-dir DIR needs --checkpoint-every N/);
    const never = run(...runFlags, '--out', join(dir, 'z'), '--checkpoint-every', '0');
    expect(never.status).toBe(2);
    expect(never.stderr).toMatch(/--checkpoint-every 0 is not valid/);
  });

  it('every --json step line carries the streamed metrics, each sensible', () => {
    const metricNames = [
      'step',
      'loss',
      'lr',
      'grad_norm',
      'tokens_per_second',
      'step_time_ms',
      'gpu_bytes',
      'peak_gpu_bytes',
      'trainable_params',
      'total_params',
      'trainable_percent',
    ] as const;
    const steps = straight.filter((l) => 'loss' in l) as unknown as Record<
      (typeof metricNames)[number],
      number
    >[];
    expect(steps.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    const trainable = elementCount(join(straightOut, 'adapter_model.safetensors'));
    const total = elementCount(join(model, 'model.safetensors')) + trainable;
    for (const [i, l] of steps.entries()) {
      expect(Object.keys(l).sort()).toEqual([...metricNames].sort());
      expect(l.loss).toBeGreaterThan(0);
      expect(Number.isFinite(l.loss)).toBe(true);
      // Linear decay from 0.02 to 0 over 4 steps, no warmup.
      expect(l.lr).toBeCloseTo(0.02 * (1 - i / 4), 10);
      expect(l.grad_norm).toBeGreaterThan(0);
      expect(Number.isFinite(l.grad_norm)).toBe(true);
      expect(l.step_time_ms).toBeGreaterThan(0);
      expect(l.tokens_per_second).toBeGreaterThan(0);
      // One row per step; tokens/s times seconds gives back a whole number of tokens within the row.
      const tokens = (l.tokens_per_second * l.step_time_ms) / 1000;
      expect(Math.abs(tokens - Math.round(tokens))).toBeLessThan(1e-6);
      expect(Math.round(tokens)).toBeGreaterThan(0);
      expect(Math.round(tokens)).toBeLessThanOrEqual(32);
      expect(l.gpu_bytes).toBeGreaterThan(0);
      expect(l.peak_gpu_bytes).toBeGreaterThanOrEqual(l.gpu_bytes);
      expect(l.trainable_params).toBe(trainable);
      expect(l.total_params).toBe(total);
      expect(l.trainable_percent).toBeCloseTo((100 * trainable) / total, 10);
    }
  });
});
