/**
 * `whetstone make-tiny-model --family llama|mistral|qwen2|qwen3|smollm3|gemma2|gemma3|gpt2 --out DIR [--seed S]`: writes a tiny random-init
 * model in exact Hugging Face layout (the test fixtures), to try the other commands without a download.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TinyFamily, tinyModelFiles } from '../train/fixtures/tiny-models';
import { numberFlag } from './load-model';
import { CliUsageError } from './usage-error';

const families: TinyFamily[] = ['llama', 'mistral', 'qwen2', 'qwen3', 'smollm3', 'gemma2', 'gemma3', 'gpt2'];

export function runMakeTinyModel(flags: { family?: string; out?: string; seed?: string }): number {
  const family = flags.family as TinyFamily | undefined;
  if (!family || !families.includes(family))
    throw new CliUsageError(`--family must be one of ${families.join(', ')}.`);
  if (!flags.out) throw new CliUsageError('--out DIR is required.');
  const seed = numberFlag(flags.seed, 'seed', 1, Number.isInteger);
  mkdirSync(flags.out, { recursive: true });
  for (const [name, content] of Object.entries(tinyModelFiles({ family, seed })))
    writeFileSync(join(flags.out, name), content);
  process.stdout.write(`Wrote a tiny ${family} model to ${flags.out}\n`);
  return 0;
}
