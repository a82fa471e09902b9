/**
 * What the per-method CLI tests (ia3, prompt, prefix, bottleneck, dora) share: a temp folder with a tiny
 * llama written to disk and a three-row training file plus a one-row validation file, the `whetstone`
 * binary run as a user runs it (a fresh process without our GPU environment variables), a short
 * `train --json` run parsed into its lines, and `eval --json` losses.
 * The model files are written here rather than by spawning `make-tiny-model`: they are the same
 * fixture (tinyModelFiles) and a spawn costs a Node start for nothing the test checks.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type TinyFamily, tinyModelFiles } from '../../train/fixtures/tiny-models';
import { safetensorsToTensors } from '../../train/peft/format/tensor-files';

const bin = new URL('../../../bin/whetstone.mjs', import.meta.url).pathname;

/** Runs `whetstone ARGS` in a fresh process without LD_LIBRARY_PATH / VK_ICD_FILENAMES, as a user would. */
export function spawnWhetstone(...args: string[]): SpawnSyncReturns<string> {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
}

/** The same, for a run that must succeed: its stdout, or an error carrying its stderr. */
export function whetstone(...args: string[]): string {
  const run = spawnWhetstone(...args);
  if (run.status !== 0) throw new Error(`whetstone ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  return run.stdout;
}

export interface CliWorkspace {
  dir: string;
  /** A tiny model in Hugging Face layout (llama unless asked: 2 layers, C 32, 2 KV heads of 8). */
  model: string;
  /** Three rows of text, JSONL. */
  data: string;
  /** One row of text, JSONL. */
  validation: string;
}

/** A fresh temp folder holding a tiny model (seeded) and the training and validation files. */
export function tinyCliWorkspace(name: string, seed = 3, family: TinyFamily = 'llama'): CliWorkspace {
  const dir = mkdtempSync(join(tmpdir(), `whetstone-${name}-`));
  const model = join(dir, 'model');
  mkdirSync(model);
  for (const [file, content] of Object.entries(tinyModelFiles({ family, seed })))
    writeFileSync(join(model, file), content);
  const data = join(dir, 'train.jsonl');
  const validation = join(dir, 'validation.jsonl');
  const texts = ['Hello, world!', 'Whetstone trains in the browser.', 'ok'];
  writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join('\n'));
  writeFileSync(validation, JSON.stringify({ text: 'Hello, browser!' }));
  return { dir, model, data, validation };
}

export interface TrainedAdapter {
  /** The adapter folder. */
  out: string;
  /** Every --json line of the run, parsed. */
  lines: Record<string, unknown>[];
  /** The validation loss the trainer reported after its last step. */
  trainedEval: number;
}

/**
 * `whetstone train --method METHOD` for 3 steps (or `run.steps`) of batch 2 (or `run.batchSize`) at
 * seq-len 64 with validation, `--json`, writing to <dir>/<out>; `flags` adds the method's own flags.
 */
export function trainAdapter(
  ws: CliWorkspace,
  method: string,
  flags: string[],
  out: string = method,
  run: { steps?: number; batchSize?: number } = {},
): TrainedAdapter {
  const folder = join(ws.dir, out);
  const stdout = whetstone(
    'train',
    ...['--model', ws.model, '--data', ws.data, '--validation', ws.validation],
    ...['--method', method, ...flags, '--out', folder],
    ...['--steps', String(run.steps ?? 3), '--batch-size', String(run.batchSize ?? 2)],
    ...['--seq-len', '64', '--json'],
  );
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const trainedEval = lines.filter((l) => 'eval_loss' in l && 'step' in l).at(-1)?.eval_loss;
  if (typeof trainedEval !== 'number') throw new Error(`train printed no eval_loss:\n${stdout}`);
  return { out: folder, lines, trainedEval };
}

/** `whetstone eval --json` of a model folder, with an adapter when given: the mean validation loss. */
export function evalLoss(ws: CliWorkspace, model: string, adapter?: string): number {
  const adapterArgs = adapter ? ['--adapter', adapter] : [];
  const result = JSON.parse(
    whetstone('eval', '--model', model, ...adapterArgs, '--data', ws.validation, '--json'),
  );
  return result.loss as number;
}

/** Two losses of the same weights on the same data, as float32 GPU runs give them (relative 1e-4). */
export function expectSameLoss(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThan(1e-4 * expected);
}

/** The tensors of an adapter folder's safetensors file, by name. */
export function adapterTensors(folder: string, file = 'adapter_model.safetensors') {
  return safetensorsToTensors(file, readFileSync(join(folder, file)));
}

/** An adapter folder's JSON config. */
export function adapterConfig(folder: string, file = 'adapter_config.json'): Record<string, unknown> {
  return JSON.parse(readFileSync(join(folder, file), 'utf8'));
}

/** `whetstone generate --adapter` greedily for 4 tokens: the generated ids. */
export function generateIds(ws: CliWorkspace, adapter: string): number[] {
  const args = ['--model', ws.model, '--adapter', adapter, '--prompt', 'Hello', '--max-new-tokens', '4'];
  return JSON.parse(whetstone('generate', ...args, '--temperature', '0', '--json')).token_ids;
}
