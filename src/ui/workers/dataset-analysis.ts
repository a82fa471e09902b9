/**
 * What the dataset worker computes for one file, as a plain function (tested in Node): read the bytes
 * (with progress), load the rows through the data pipeline (format, schema or the person's mapping, bad
 * rows skipped or not), tokenize every example as training would (chat template, prompt masking, EOS)
 * to measure token lengths, and keep the first rows as the model sees them: decoded stretches marked
 * trained or masked (-100), with token counts. Lengths are measured before truncation, as
 * summary.ts measures them; `overMaxLength` counts the examples the run's sequence length would cut.
 *
 * The file is parsed as its stream arrives (loadDatasetStream), so a large JSONL, CSV, TSV or text file
 * is never held whole in memory next to its rows, and the progress bar counts real bytes parsed.
 */
import { type ChatRendering, chatRenderer } from '../../train/data/chat-render';
import { DatasetEncodingError, MissingColumnError, SchemaDetectionError } from '../../train/data/errors';
import { chosenAsCompletion, type Example } from '../../train/data/examples';
import { DatasetRowError } from '../../train/data/jsonl';
import { labelCounts, labelSetOf } from '../../train/data/labels';
import type { LoadedDataset } from '../../train/data/load-dataset';
import { loadDatasetStream } from '../../train/data/stream/load-stream';
import { lengthStats } from '../../train/data/summary';
import { type DatasetTokenizer, tokenizeExamples } from '../../train/data/tokenize-examples';
import { ModelTokenizer } from '../../train/text/tokenizer';
import type {
  AnalysisFailure,
  AnalysisPhase,
  AnalyzeRequest,
  DatasetAnalysis,
  HistogramBin,
  PreviewSpan,
} from './dataset-protocol';

export type ProgressReport = (phase: AnalysisPhase, done: number, total: number) => void;

const DEFAULT_PREVIEW_ROWS = 8;
const BAD_ROW_SAMPLES = 5;
/** Examples tokenized between progress reports. */
const TOKENIZE_CHUNK = 256;

interface OpenedTokenizer {
  tokenizer: DatasetTokenizer;
  eosTokenId?: number;
}

const decodeJson = (bytes: Uint8Array | undefined): Record<string, unknown> | undefined =>
  bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>) : undefined;

const firstId = (value: unknown): number | undefined =>
  typeof value === 'number'
    ? value
    : Array.isArray(value) && typeof value[0] === 'number'
      ? value[0]
      : undefined;

export function openTokenizer(files: Record<string, Uint8Array>): OpenedTokenizer {
  const tokenizerJson = decodeJson(files['tokenizer.json']);
  if (!tokenizerJson) throw new Error('The model has no tokenizer.json, so token counts cannot be measured.');
  const template = files['chat_template.jinja'];
  const tokenizer = new ModelTokenizer(
    tokenizerJson,
    decodeJson(files['tokenizer_config.json']) ?? {},
    template ? new TextDecoder().decode(template) : undefined,
  );
  const eosTokenId =
    firstId(decodeJson(files['generation_config.json'])?.eos_token_id) ??
    firstId(decodeJson(files['config.json'])?.eos_token_id) ??
    (tokenizer.eosToken === undefined ? undefined : tokenizer.tokenId(tokenizer.eosToken));
  return { tokenizer, eosTokenId };
}

/** Equal-width bins of whole token counts from the shortest to the longest, at most `maxBins`. */
export function lengthHistogram(lengths: readonly number[], maxBins = 24): HistogramBin[] {
  if (!lengths.length) return [];
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const n of lengths) {
    if (n < min) min = n;
    if (n > max) max = n;
  }
  const width = Math.max(1, Math.ceil((max - min + 1) / maxBins));
  const count = Math.floor((max - min) / width) + 1;
  const bins = Array.from({ length: count }, (_, i) => ({
    from: min + i * width,
    to: min + (i + 1) * width,
    count: 0,
  }));
  for (const n of lengths) (bins[Math.floor((n - min) / width)] as HistogramBin).count++;
  return bins;
}

/** Consecutive tokens with the same trained-or-masked state, decoded together. */
export function previewSpans(
  ids: readonly number[],
  labels: readonly number[],
  decode: (ids: number[]) => string,
) {
  const spans: PreviewSpan[] = [];
  let start = 0;
  for (let i = 1; i <= ids.length; i++) {
    const trained = labels[start] !== -100;
    if (i < ids.length && (labels[i] !== -100) === trained) continue;
    spans.push({ text: decode(ids.slice(start, i)), trained });
    start = i;
  }
  return spans;
}

/** The chat renderer tokenizeExamples uses, so training texts match what the preview shows. */
function renderingFor(opened: OpenedTokenizer | undefined): ChatRendering {
  const t = opened?.tokenizer;
  const eosToken =
    t?.eosToken ?? (opened?.eosTokenId === undefined || !t ? undefined : t.decode([opened.eosTokenId]));
  return chatRenderer({
    hasChatTemplate: t?.hasChatTemplate ?? false,
    applyChatTemplate: (messages, o) => (t as DatasetTokenizer).applyChatTemplate(messages, o),
    eosToken,
    bosToken: t?.bosToken,
  });
}

function exampleText(example: Example, chat: () => ChatRendering): string | undefined {
  switch (example.kind) {
    case 'text':
      return example.text;
    case 'prompt-completion':
      return example.prompt + example.completion;
    case 'chat':
      return chat().render(example.messages, false);
    case 'preference':
      // As SFT trains on it (and as the tokenized preview shows it): the prompt and the chosen response.
      return exampleText(chosenAsCompletion(example), chat);
    case 'classification':
      return undefined;
  }
}

export async function analyzeDataset(
  request: Omit<AnalyzeRequest, 'kind' | 'id'>,
  onProgress: ProgressReport = () => undefined,
): Promise<DatasetAnalysis> {
  onProgress('reading', 0, request.file.size);
  const loaded: LoadedDataset = await loadDatasetStream(request.fileName, request.file, {
    skipBadRows: request.settings.skipBadRows,
    schema: request.settings.schema,
    textMode: request.settings.textMode,
    onProgress: ({ bytesRead, totalBytes }) =>
      onProgress('reading', bytesRead, totalBytes ?? request.file.size),
  });
  const opened = request.tokenizer ? openTokenizer(request.tokenizer.files) : undefined;
  const previewCount = request.previewRows ?? DEFAULT_PREVIEW_ROWS;
  const { examples } = loaded;
  const classified = examples.flatMap((e) => (e.kind === 'classification' ? [e] : []));
  const analysis: DatasetAnalysis = {
    file: loaded.file,
    format: loaded.format,
    ...(loaded.textMode ? { textMode: loaded.textMode } : {}),
    columns: loaded.columns,
    schema: loaded.schema,
    schemaDetected: loaded.schemaDetected,
    rows: loaded.rows,
    badRows: loaded.badRows.length,
    badRowSamples: loaded.badRows
      .slice(0, BAD_ROW_SAMPLES)
      .map((e) => ({ line: e.line, message: e.message })),
    examples: examples.length,
    histogram: [],
    preview: [],
    trainableExamples: examples.length - classified.length,
  };
  if (classified.length) analysis.labels = { set: labelSetOf(classified), counts: labelCounts(classified) };

  let rendering: ChatRendering | undefined;
  const chat = () => {
    rendering ??= renderingFor(opened);
    return rendering;
  };

  if (!opened || !request.tokenizer) {
    analysis.preview = examples
      .slice(0, previewCount)
      .map((e) =>
        e.kind === 'classification'
          ? { kind: 'classification', line: e.line, text: e.text, textPair: e.textPair, label: e.label }
          : { kind: 'untokenized', line: e.line, text: exampleText(e, chat) ?? '' },
      );
    return analysis;
  }

  const { tokenizer, eosTokenId } = opened;
  const maxLength = request.maxLength;
  const lengths: number[] = [];
  if (classified.length) {
    for (const e of classified) {
      const pair =
        e.textPair === undefined ? 0 : tokenizer.encode(e.textPair, { addSpecialTokens: false }).length;
      const length = tokenizer.encode(e.text).length + pair;
      lengths.push(length);
      if (analysis.preview.length < previewCount)
        analysis.preview.push({
          kind: 'classification',
          line: e.line,
          text: e.text,
          textPair: e.textPair,
          label: e.label,
          tokens: length,
        });
    }
    analysis.tokens = { ...lengthStats(lengths), template: 'none', modelId: request.tokenizer.modelId };
  } else {
    let trained = 0;
    let template: 'model' | 'fallback' | 'none' = 'none';
    const decode = (ids: number[]) => tokenizer.decode(ids);
    for (let start = 0; start < examples.length; start += TOKENIZE_CHUNK) {
      const chunk = tokenizeExamples(examples.slice(start, start + TOKENIZE_CHUNK), tokenizer, {
        maxLength: Number.POSITIVE_INFINITY,
        maskPrompt: request.maskPrompt ?? true,
        eosTokenId,
        truncate: false,
      });
      if (chunk.template !== 'none') template = chunk.template;
      for (const e of chunk.examples) {
        lengths.push(e.length);
        const trainedHere = e.labels.reduce((n, l) => n + (l === -100 ? 0 : 1), 0);
        trained += trainedHere;
        if (analysis.preview.length < previewCount)
          analysis.preview.push({
            kind: 'tokens',
            line: e.line,
            spans: previewSpans(e.ids, e.labels, decode),
            tokens: e.length,
            trainedTokens: trainedHere,
            overMaxLength: maxLength !== undefined && e.length > maxLength,
          });
      }
      onProgress('tokenizing', Math.min(examples.length, start + TOKENIZE_CHUNK), examples.length);
    }
    analysis.tokens = { ...lengthStats(lengths), trained, template, modelId: request.tokenizer.modelId };
  }
  if (maxLength !== undefined) analysis.tokens.overMaxLength = lengths.filter((n) => n > maxLength).length;
  analysis.histogram = lengthHistogram(lengths);
  return analysis;
}

/** Any error as the failure message the page gets: its name, message, and where it points. */
export function describeFailure(id: number, error: unknown): AnalysisFailure {
  const base = {
    name: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
  };
  if (error instanceof DatasetRowError)
    return { kind: 'failure', id, error: { ...base, line: error.line, unit: error.unit } };
  if (error instanceof DatasetEncodingError)
    return { kind: 'failure', id, error: { ...base, line: error.line } };
  if (error instanceof SchemaDetectionError || error instanceof MissingColumnError)
    return { kind: 'failure', id, error: { ...base, columns: [...error.present] } };
  return { kind: 'failure', id, error: base };
}
