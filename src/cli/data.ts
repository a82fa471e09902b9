/**
 * `whetstone data --data FILE [--model DIR|REPO] [--seq-len N] [--schema KIND] [--columns f=c,...]
 *  [--format F] [--text-mode M] [--no-mask-prompt] [--json]`: what Whetstone understood of a dataset
 * file, before any training: format, schema (and whether it was detected), columns, rows, bad rows
 * (counted, the first few with their lines), examples, label balance, and with --model the token
 * lengths (min, mean, median, p95, max) as training would tokenize them (the model's chat template,
 * EOS), the trained tokens after prompt masking, and how many examples --seq-len (default: train's,
 * 256) would truncate; for a preference file, the prompt + rejected lengths too, and how many pairs DPO
 * would cut or drop at --seq-len. Bad rows are always counted here, never fatal: this is where to find them (train
 * stops at the first unless --skip-bad-rows). Needs no GPU: only the model's tokenizer is read.
 * --json prints one JSON object; otherwise a readable summary.
 */
import type { DatasetSummary } from '../train/data/summary';
import { summarizeLoaded } from '../train/data/summary';
import { openModelBundle } from '../train/io/model-bundle';
import { defaultTrainConfig } from '../train/train-config';
import { datasetOptionsOf, readDatasetFile } from './dataset-flags';
import { numberFlag } from './load-model';
import { modelFilesFor } from './model-source';
import { CliUsageError } from './usage-error';

export type DataFlags = Partial<Record<string, string | boolean>>;

/** The first examples, as Whetstone read them (before tokenization). */
const PREVIEW = 3;

function jsonReport(summary: DatasetSummary, seqLen: number | undefined, preview: unknown[]) {
  const t = summary.tokens;
  return {
    file: summary.file,
    format: summary.format,
    ...(summary.textMode ? { text_mode: summary.textMode } : {}),
    schema: summary.schema,
    columns: summary.columns,
    rows: summary.rows,
    bad_rows: summary.badRows,
    bad_row_samples: summary.badRowDetails,
    examples: summary.examples,
    ...(summary.labels ? { labels: summary.labels } : {}),
    ...(t
      ? {
          tokens: {
            count: t.count,
            total: t.total,
            min: t.min,
            mean: t.mean,
            median: t.p50,
            p95: t.p95,
            max: t.max,
            ...(t.trained === undefined ? {} : { trained: t.trained }),
            template: t.template,
            seq_len: seqLen,
            truncated: t.overMaxLength ?? 0,
            ...(t.preference
              ? {
                  preference: {
                    rejected: {
                      count: t.preference.rejected.count,
                      total: t.preference.rejected.total,
                      min: t.preference.rejected.min,
                      mean: t.preference.rejected.mean,
                      median: t.preference.rejected.p50,
                      p95: t.preference.rejected.p95,
                      max: t.preference.rejected.max,
                    },
                    truncated_pairs: t.preference.truncatedPairs ?? 0,
                    dropped_pairs: t.preference.droppedPairs ?? 0,
                  },
                }
              : {}),
          },
        }
      : {}),
    preview,
  };
}

function readable(summary: DatasetSummary, seqLen: number | undefined): string {
  const lines: string[] = [];
  const n = (x: number) => x.toLocaleString('en-US');
  lines.push(
    `${summary.file}: ${summary.format}${summary.textMode ? ` (${summary.textMode})` : ''}, ${n(summary.rows)} rows, ` +
      `${n(summary.badRows)} bad, ${n(summary.examples)} examples`,
  );
  const mapping = Object.entries(summary.schema.columns)
    .map(([field, column]) => `${field} = "${column}"`)
    .join(', ');
  lines.push(
    `schema: ${summary.schema.kind} (${summary.schema.detected ? 'detected' : 'as given'}): ${mapping}`,
  );
  lines.push(`columns: ${summary.columns.map((c) => `"${c}"`).join(', ')}`);
  if (summary.badRows) {
    lines.push(`bad rows (train stops at the first unless --skip-bad-rows):`);
    for (const bad of summary.badRowDetails)
      lines.push(`  ${bad.unit} ${bad.line}: ${bad.detail}: ${bad.snippet}`);
    if (summary.badRows > summary.badRowDetails.length)
      lines.push(`  ... and ${n(summary.badRows - summary.badRowDetails.length)} more`);
  }
  if (summary.labels)
    lines.push(
      `labels: ${Object.entries(summary.labels.counts)
        .map(([label, count]) => `${label}: ${n(count)}`)
        .join(', ')}`,
    );
  const t = summary.tokens;
  if (t) {
    const template =
      t.template === 'model'
        ? "the model's chat template"
        : t.template === 'fallback'
          ? 'the fallback chat template'
          : 'no chat template';
    const p = t.preference;
    lines.push(
      `tokens per ${p ? 'prompt + chosen response, as SFT trains on it' : 'example'} (${template}): ` +
        `min ${n(t.min)}, mean ${t.mean.toFixed(1)}, median ${t.p50}, p95 ${t.p95.toFixed(1)}, max ${n(t.max)}; ` +
        `${n(t.total)} in all${t.trained === undefined ? '' : `, ${n(t.trained)} trained`}`,
    );
    if (p)
      lines.push(
        `tokens per prompt + rejected response: min ${n(p.rejected.min)}, mean ${p.rejected.mean.toFixed(1)}, ` +
          `median ${p.rejected.p50}, p95 ${p.rejected.p95.toFixed(1)}, max ${n(p.rejected.max)}`,
      );
    if (seqLen !== undefined)
      lines.push(
        `${n(t.overMaxLength ?? 0)} of ${n(t.count)} examples are longer than --seq-len ${seqLen} and would be truncated`,
      );
    if (p && seqLen !== undefined)
      lines.push(
        `DPO at --seq-len ${seqLen}: ${n(p.truncatedPairs ?? 0)} of ${n(p.rejected.count)} pairs would be ` +
          `truncated, ${n(p.droppedPairs ?? 0)} dropped (the prompt alone fills it)`,
      );
  }
  return `${lines.join('\n')}\n`;
}

export async function runData(
  flags: DataFlags,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  if (typeof flags.data !== 'string') throw new CliUsageError('--data FILE is required.');
  const options = datasetOptionsOf(flags);
  // Bad rows are what this command is for: always counted, never fatal.
  const loaded = await readDatasetFile(flags.data, { ...options, skipBadRows: true });
  let seqLen: number | undefined;
  let summary: DatasetSummary;
  if (typeof flags.model === 'string') {
    const bundle = await openModelBundle(await modelFilesFor(flags.model));
    seqLen = numberFlag(
      flags['seq-len'],
      'seq-len',
      defaultTrainConfig.seqLen,
      (x) => Number.isInteger(x) && x > 1,
    );
    summary = summarizeLoaded(loaded, bundle.tokenizer, {
      eosTokenId: bundle.generation.eosTokenIds[0],
      maskPrompt: flags['no-mask-prompt'] !== true,
      maxLength: seqLen,
    });
  } else {
    if (flags['seq-len'] !== undefined)
      throw new CliUsageError('--seq-len needs --model: token lengths need its tokenizer.');
    summary = summarizeLoaded(loaded);
  }
  const preview = loaded.examples.slice(0, PREVIEW);
  write(flags.json ? `${JSON.stringify(jsonReport(summary, seqLen, preview))}\n` : readable(summary, seqLen));
  return 0;
}
