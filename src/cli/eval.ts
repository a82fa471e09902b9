/**
 * `whetstone eval --model DIR --data FILE [--seq-len N] [--batch-size N] --json`: the mean next-token
 * cross-entropy over every label token of a .jsonl file of {"text": ...} lines; prints
 * {"loss", "tokens", "perplexity"}. Texts longer than --seq-len are truncated, and said so on stderr.
 */
import { readFileSync } from 'node:fs';
import { parseJsonl, textRows } from '../train/data/jsonl';
import { textBatches, tokenizeText } from '../train/data/text-batches';
import { evaluateLoss } from '../train/evaluate';
import { loadModelForCli, numberFlag } from './load-model';
import { CliUsageError } from './usage-error';

export interface EvalFlags {
  model?: string;
  adapter?: string;
  data?: string;
  'seq-len'?: string;
  'batch-size'?: string;
  json?: boolean;
}

export async function runEval(flags: EvalFlags): Promise<number> {
  if (!flags.data) throw new CliUsageError('--data FILE is required: a .jsonl file of {"text": ...} lines.');
  if (!flags.data.endsWith('.jsonl'))
    throw new CliUsageError(`--data ${flags.data}: eval reads .jsonl files of {"text": ...} lines.`);
  const rows = textRows(parseJsonl(readFileSync(flags.data, 'utf8'), flags.data), flags.data);
  const { bundle, runtime, model, adaptation } = await loadModelForCli(flags.model, flags.adapter);
  const defaultLength = model.config.positions === 'learned' ? Math.min(512, model.config.P) : 512;
  const seqLen = numberFlag(flags['seq-len'], 'seq-len', defaultLength, (n) => Number.isInteger(n) && n > 1);
  if (model.config.positions === 'learned' && seqLen > model.config.P) {
    throw new CliUsageError(`--seq-len ${seqLen} passes this model's ${model.config.P} positions.`);
  }
  const batchSize = numberFlag(flags['batch-size'], 'batch-size', 8, (n) => Number.isInteger(n) && n > 0);
  const eos = bundle.generation.eosTokenIds[0];
  const tokenized = rows.map((row) =>
    tokenizeText((text) => bundle.tokenizer.encode(text), row.text, eos, seqLen),
  );
  const truncated = tokenized.filter((t) => t.truncated).length;
  if (truncated > 0)
    process.stderr.write(
      `whetstone: ${truncated} of ${rows.length} texts were truncated to ${seqLen} tokens.\n`,
    );
  const result = await evaluateLoss(
    runtime,
    model,
    textBatches(
      tokenized.map((t) => t.ids),
      batchSize,
      seqLen,
    ),
    adaptation,
  );
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    process.stdout.write(
      `loss ${result.loss.toFixed(4)}  perplexity ${result.perplexity.toFixed(2)}  over ${result.tokens} tokens\n`,
    );
  return 0;
}
