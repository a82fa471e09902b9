/**
 * What `whetstone data --data FILE [--model DIR] --json` prints: the detected format and schema, row
 * and bad-row counts (bad rows are skipped and counted here, with the first few messages), label
 * counts for classification, and token-length statistics when a tokenizer is given. Lengths are of the
 * examples as training would tokenize them (template applied, EOS appended) before truncation;
 * percentiles interpolate linearly between ranks, as numpy.percentile does by default. A classification
 * example's length is its text's plus its pair's without special tokens: the pair's separator (one
 * [SEP] for BERT) is not counted until pair encoding exists. A preference example's length is its prompt
 * and chosen response's, as SFT trains on it; `tokens.preference` adds the prompt + rejected lengths as
 * DPO tokenizes them, and with `maxLength` how many pairs DPO would cut and drop (tokenize-preferences.ts).
 */
import type { PreferenceExample } from './examples';
import { type Label, labelCounts, labelSetOf } from './labels';
import { type LoadDatasetOptions, type LoadedDataset, loadDataset } from './load-dataset';
import type { SchemaKind } from './schema';
import { type DatasetTokenizer, tokenizeExamples } from './tokenize-examples';
import { tokenizePreferences } from './tokenize-preferences';

export interface TokenLengthStats {
  count: number;
  total: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

export interface DatasetSummary {
  file: string;
  format: string;
  textMode?: string;
  schema: { kind: SchemaKind; columns: Record<string, string>; detected: boolean };
  columns: string[];
  rows: number;
  badRows: number;
  /** The first few bad rows' messages (file, line, what is wrong, snippet). */
  badRowSamples: string[];
  /** The same bad rows, as parts: the line (or row), the kind of error, what is wrong, the snippet. */
  badRowDetails: { line: number; unit: 'line' | 'row'; error: string; detail: string; snippet: string }[];
  examples: number;
  labels?: { set: Label[]; counts: Record<string, number> };
  tokens?: TokenLengthStats & {
    /** Tokens with a label, after prompt masking (language-model schemas only). */
    trained?: number;
    template: 'model' | 'fallback' | 'none';
    /** With `maxLength`: how many examples are longer, and would be truncated. */
    overMaxLength?: number;
    /** Preference datasets: the other side of each pair, as DPO tokenizes it. */
    preference?: PreferenceTokenStats;
  };
}

export interface PreferenceTokenStats {
  /** Lengths of prompt + rejected response (EOS or the template's turn end included). */
  rejected: TokenLengthStats;
  /** With `maxLength`: pairs DPO would cut (either side longer) and drop (the prompt alone fills it). */
  truncatedPairs?: number;
  droppedPairs?: number;
}

export interface SummaryOptions extends LoadDatasetOptions {
  eosTokenId?: number;
  maskPrompt?: boolean;
  maxLength?: number;
}

/** numpy.percentile's default ("linear"): the value at rank p/100 · (n − 1) of the sorted lengths. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const lo = sorted[low] as number;
  const hi = sorted[Math.min(low + 1, sorted.length - 1)] as number;
  return lo + (hi - lo) * (rank - low);
}

export function lengthStats(lengths: readonly number[]): TokenLengthStats {
  const sorted = [...lengths].sort((a, b) => a - b);
  const total = sorted.reduce((sum, n) => sum + n, 0);
  return {
    count: sorted.length,
    total,
    min: sorted[0] ?? 0,
    mean: sorted.length ? total / sorted.length : 0,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1] ?? 0,
  };
}

const SAMPLES = 5;

export async function summarizeDataset(
  fileName: string,
  bytes: Uint8Array,
  tokenizer?: DatasetTokenizer,
  options: SummaryOptions = {},
): Promise<DatasetSummary> {
  return summarizeLoaded(
    await loadDataset(fileName, bytes, { skipBadRows: true, ...options }),
    tokenizer,
    options,
  );
}

/** The summary of a dataset already loaded (by loadDataset, or streamed by loadDatasetStream). */
export function summarizeLoaded(
  loaded: LoadedDataset,
  tokenizer?: DatasetTokenizer,
  options: SummaryOptions = {},
): DatasetSummary {
  const summary: DatasetSummary = {
    file: loaded.file,
    format: loaded.format,
    ...(loaded.textMode ? { textMode: loaded.textMode } : {}),
    schema: { kind: loaded.schema.kind, columns: loaded.schema.columns, detected: loaded.schemaDetected },
    columns: loaded.columns,
    rows: loaded.rows,
    badRows: loaded.badRows.length,
    badRowSamples: loaded.badRows.slice(0, SAMPLES).map((e) => e.message),
    badRowDetails: loaded.badRows.slice(0, SAMPLES).map((e) => ({
      line: e.line,
      unit: e.unit,
      error: e.name,
      detail: e.detail,
      snippet: e.snippet,
    })),
    examples: loaded.examples.length,
  };
  const classified = loaded.examples.flatMap((e) => (e.kind === 'classification' ? [e] : []));
  if (classified.length) summary.labels = { set: labelSetOf(classified), counts: labelCounts(classified) };
  if (!tokenizer) return summary;

  let lengths: number[];
  let extra: { trained?: number; template: 'model' | 'fallback' | 'none' };
  if (classified.length) {
    lengths = classified.map(
      (e) =>
        tokenizer.encode(e.text).length +
        (e.textPair === undefined ? 0 : tokenizer.encode(e.textPair, { addSpecialTokens: false }).length),
    );
    extra = { template: 'none' };
  } else {
    const tokenized = tokenizeExamples(loaded.examples, tokenizer, {
      maxLength: Number.POSITIVE_INFINITY,
      maskPrompt: options.maskPrompt,
      eosTokenId: options.eosTokenId,
      truncate: false,
    });
    lengths = tokenized.examples.map((e) => e.length);
    const trained = tokenized.examples.reduce((n, e) => n + e.labels.filter((l) => l !== -100).length, 0);
    extra = { trained, template: tokenized.template };
  }
  const { maxLength } = options;
  const preferences = loaded.examples.flatMap((e) => (e.kind === 'preference' ? [e] : []));
  summary.tokens = {
    ...lengthStats(lengths),
    ...extra,
    ...(maxLength === undefined ? {} : { overMaxLength: lengths.filter((n) => n > maxLength).length }),
    ...(preferences.length
      ? { preference: preferenceStats(preferences, tokenizer, options.eosTokenId, maxLength) }
      : {}),
  };
  return summary;
}

function preferenceStats(
  examples: PreferenceExample[],
  tokenizer: DatasetTokenizer,
  eosTokenId: number | undefined,
  maxLength: number | undefined,
): PreferenceTokenStats {
  const { pairs } = tokenizePreferences(examples, tokenizer, {
    maxLength: Number.POSITIVE_INFINITY,
    eosTokenId,
  });
  const stats: PreferenceTokenStats = { rejected: lengthStats(pairs.map((p) => p.lengths.rejected)) };
  if (maxLength === undefined) return stats;
  const kept = pairs.filter((p) => p.lengths.prompt < maxLength);
  return {
    ...stats,
    truncatedPairs: kept.filter((p) => p.lengths.chosen > maxLength || p.lengths.rejected > maxLength).length,
    droppedPairs: pairs.length - kept.length,
  };
}
