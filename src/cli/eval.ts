/**
 * `whetstone eval --model DIR [--adapter DIR] --data FILE [--seq-len N] [--batch-size N] --json`: the
 * mean next-token cross-entropy over every label token of a dataset file, read as train reads it (any
 * format and schema, the model's chat template, prompt masking unless --no-mask-prompt; see
 * dataset-flags.ts); prints {"loss", "tokens", "perplexity"} and the data counts. Examples longer than
 * --seq-len are truncated, and said so on stderr. `--objective dpo --adapter DIR` scores a preference
 * file instead: DPO's loss and rewards of the adapter against its base model as the reference.
 */
import { exampleBatches } from '../train/data/text-batches';
import { evaluateLoss } from '../train/evaluate';
import { rowTokenLimit } from '../train/models/row-limit';
import { evaluatePreferences } from '../train/preference/evaluate-preferences';
import { dataReport, prepareCliTrainingData, readDatasetsFromFlags } from './dataset-flags';
import { preferenceFromFlags, preferenceReport, preferenceText, prepareCliPreferenceData } from './dpo-flags';
import { loadModelForCli, numberFlag } from './load-model';
import { quantizationFromFlags } from './quantize-flag';
import { CliUsageError } from './usage-error';

export type EvalFlags = Partial<Record<string, string | boolean>> & {
  model?: string;
  adapter?: string;
  data?: string;
  'seq-len'?: string;
  'batch-size'?: string;
  quantize?: string;
  json?: boolean;
};

export async function runEval(flags: EvalFlags): Promise<number> {
  if (!flags.data)
    throw new CliUsageError(
      '--data FILE is required: a dataset file (JSONL, JSON, CSV, TSV, Parquet, text).',
    );
  const datasets = await readDatasetsFromFlags(flags, false);
  const { preference } = preferenceFromFlags(flags);
  if (preference && !flags.adapter)
    throw new CliUsageError(
      'eval --objective dpo scores an adapter against its base model (--model) as the reference; give --adapter DIR.',
    );
  const { bundle, runtime, model, adaptation } = await loadModelForCli(
    flags.model,
    flags.adapter,
    'inference',
    {
      quantization: quantizationFromFlags(flags),
    },
  );
  const limit = rowTokenLimit(model.config);
  const defaultLength = Math.min(512, limit?.tokens ?? 512);
  const seqLen = numberFlag(flags['seq-len'], 'seq-len', defaultLength, (n) => Number.isInteger(n) && n > 1);
  if (limit && seqLen > limit.tokens) {
    throw new CliUsageError(`--seq-len ${seqLen} passes ${limit.tokens} tokens: ${limit.why}.`);
  }
  const batchSize = numberFlag(flags['batch-size'], 'batch-size', 8, (n) => Number.isInteger(n) && n > 0);
  if (preference) {
    if (!adaptation) throw new Error('unreachable: refused before loading');
    const pairs = prepareCliPreferenceData(datasets, bundle.tokenizer, {
      seqLen,
      eosTokenId: bundle.generation.eosTokenIds[0],
      seed: 0,
    });
    const all = [...pairs.train, ...pairs.validation];
    const result = await evaluatePreferences(runtime, model, adaptation, all, {
      batchSize,
      seqLen,
      ...preference,
    });
    if (flags.json)
      process.stdout.write(
        `${JSON.stringify({ objective: 'dpo', dpo_beta: preference.beta, dpo_loss: preference.lossType ?? 'sigmoid', loss: result.loss, pairs: result.pairs, ...preferenceReport(result.preference) })}\n`,
      );
    else
      process.stdout.write(
        `DPO loss ${result.loss.toFixed(4)}${preferenceText(result.preference)}  over ${result.pairs} pairs\n`,
      );
    return 0;
  }
  const data = prepareCliTrainingData(datasets, bundle.tokenizer, {
    seqLen,
    eosTokenId: bundle.generation.eosTokenIds[0],
    seed: 0,
  });
  const result = await evaluateLoss(
    runtime,
    model,
    exampleBatches(data.train, batchSize, seqLen),
    adaptation,
  );
  if (flags.json) {
    const { validation_rows: _, train_rows: rows, ...report } = dataReport(data);
    process.stdout.write(`${JSON.stringify({ ...result, rows, ...report })}\n`);
  } else
    process.stdout.write(
      `loss ${result.loss.toFixed(4)}  perplexity ${result.perplexity.toFixed(2)}  over ${result.tokens} tokens\n`,
    );
  return 0;
}
