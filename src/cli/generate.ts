/**
 * `whetstone generate --model DIR --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K]
 * [--top-p P] [--seed S] [--json]`: streams the text; --json prints {"text", "token_ids"} (new ids only).
 * Sampling defaults follow generation_config.json (greedy unless it sets do_sample); --temperature 0 is greedy.
 */
import { Generator } from '../train/generate/generator';
import { rowTokenLimit } from '../train/models/row-limit';
import { loadModelForCli, numberFlag } from './load-model';
import { quantizationFromFlags } from './quantize-flag';
import { CliUsageError } from './usage-error';

export interface GenerateFlags {
  model?: string;
  adapter?: string;
  prompt?: string;
  'max-new-tokens'?: string;
  temperature?: string;
  'top-k'?: string;
  'top-p'?: string;
  seed?: string;
  quantize?: string;
  json?: boolean;
}

export async function runGenerate(flags: GenerateFlags): Promise<number> {
  if (flags.prompt === undefined) throw new CliUsageError('--prompt TEXT is required.');
  const { bundle, runtime, model, adaptation } = await loadModelForCli(
    flags.model,
    flags.adapter,
    'inference',
    {
      quantization: quantizationFromFlags(flags),
    },
  );
  const defaults = bundle.generation;
  const maxNewTokens = numberFlag(
    flags['max-new-tokens'],
    'max-new-tokens',
    64,
    (n) => Number.isInteger(n) && n > 0,
  );
  const sampleByDefault = defaults.doSample;
  const temperature = numberFlag(
    flags.temperature,
    'temperature',
    sampleByDefault ? (defaults.temperature ?? 1) : 0,
    (n) => n >= 0,
  );
  const sampling = {
    temperature,
    topK: numberFlag(
      flags['top-k'],
      'top-k',
      sampleByDefault ? (defaults.topK ?? 50) : 0,
      (n) => Number.isInteger(n) && n >= 0,
    ),
    topP: numberFlag(
      flags['top-p'],
      'top-p',
      sampleByDefault ? (defaults.topP ?? 1) : 1,
      (n) => n > 0 && n <= 1,
    ),
  };
  const seed = numberFlag(flags.seed, 'seed', 0, Number.isInteger);
  const prompt = bundle.tokenizer.encode(flags.prompt);
  const config = model.config;
  const maxLength = prompt.length + maxNewTokens;
  const limit = rowTokenLimit(config);
  if (limit && maxLength > limit.tokens) {
    throw new CliUsageError(
      `The prompt (${prompt.length} tokens) plus ${maxNewTokens} new tokens pass ${limit.tokens} tokens: ${limit.why}.`,
    );
  }
  const generator = new Generator(runtime, model, maxLength, adaptation);
  const ids: number[] = [];
  let printed = '';
  for await (const token of generator.stream(prompt, {
    maxNewTokens,
    sampling,
    seed,
    stopTokenIds: defaults.eosTokenIds,
  })) {
    ids.push(token);
    if (flags.json) continue;
    // Decode the whole tail each time: a multi-byte character may span tokens.
    const text = bundle.tokenizer.decode(ids, { skipSpecialTokens: true });
    if (!text.endsWith('\uFFFD')) {
      process.stdout.write(text.slice(printed.length));
      printed = text;
    }
  }
  const text = bundle.tokenizer.decode(ids, { skipSpecialTokens: true });
  if (flags.json) process.stdout.write(`${JSON.stringify({ text, token_ids: ids })}\n`);
  else process.stdout.write(`${text.slice(printed.length)}\n`);
  return 0;
}
