/**
 * Messages between the page and the dataset worker, a union keyed by `kind`. The page sends one
 * `analyze` request per file (matched by `id`); the worker answers with `progress` events, then exactly
 * one `analysis` or `failure`. A failure carries the error's name and fields, so the page can show the
 * line of a bad row and offer to skip bad rows, without the error class crossing the boundary.
 */
import type { DatasetFormat } from '../../train/data/formats';
import type { Label } from '../../train/data/labels';
import type { PlainTextMode } from '../../train/data/plain-text';
import type { SchemaChoice } from '../../train/data/schema';
import type { TokenLengthStats } from '../../train/data/summary';
import type { DatasetReadSettings } from '../storage/dataset-library';

/** The model files the analysis tokenizes with (tokenizer.json required; the rest optional). */
export interface AnalysisTokenizer {
  /** Which model these files came from, kept with the statistics they measure. */
  modelId: string;
  files: Record<string, Uint8Array>;
}

export interface AnalyzeRequest {
  kind: 'analyze';
  id: number;
  /** The raw file: a File or Blob crosses postMessage without copying its bytes. */
  file: Blob;
  fileName: string;
  settings: DatasetReadSettings;
  tokenizer?: AnalysisTokenizer;
  /** Train only on completions and assistant turns (default true). */
  maskPrompt?: boolean;
  /** The run's sequence length, to count examples that training would cut. */
  maxLength?: number;
  previewRows?: number;
}

export type AnalysisPhase = 'reading' | 'tokenizing';

export interface AnalysisProgress {
  kind: 'progress';
  id: number;
  phase: AnalysisPhase;
  /** Bytes read while reading; examples tokenized while tokenizing. */
  done: number;
  total: number;
}

/** A stretch of a row as the model sees it: `trained` tokens carry labels, the rest are -100. */
export interface PreviewSpan {
  text: string;
  trained: boolean;
}

export type PreviewRow =
  | {
      kind: 'tokens';
      line: number;
      spans: PreviewSpan[];
      /** Tokens before truncation, and how many of them are trained. */
      tokens: number;
      trainedTokens: number;
      /** Longer than the run's sequence length: training cuts it. */
      overMaxLength: boolean;
    }
  | { kind: 'classification'; line: number; text: string; textPair?: string; label: Label; tokens?: number }
  | { kind: 'untokenized'; line: number; text: string };

export interface HistogramBin {
  /** Token lengths in [from, to). */
  from: number;
  to: number;
  count: number;
}

export interface DatasetAnalysis {
  file: string;
  format: DatasetFormat;
  textMode?: PlainTextMode;
  columns: string[];
  schema: SchemaChoice;
  schemaDetected: boolean;
  rows: number;
  badRows: number;
  /** The first few bad rows, as "file, line N: what is wrong: snippet". */
  badRowSamples: { line: number; message: string }[];
  examples: number;
  labels?: { set: Label[]; counts: Record<string, number> };
  tokens?: TokenLengthStats & {
    trained?: number;
    template: 'model' | 'fallback' | 'none';
    overMaxLength?: number;
    modelId: string;
  };
  histogram: HistogramBin[];
  preview: PreviewRow[];
  /**
   * Examples a language model trains on (classification rows train a head and are not counted). The
   * examples themselves stay in the worker: a training run reads the file again in its own worker.
   */
  trainableExamples: number;
}

export interface AnalysisResult {
  kind: 'analysis';
  id: number;
  analysis: DatasetAnalysis;
}

export interface AnalysisFailure {
  kind: 'failure';
  id: number;
  error: {
    name: string;
    message: string;
    /** Set for a DatasetRowError (and an encoding error): where in the file. */
    line?: number;
    unit?: 'line' | 'row';
    /** For a schema problem: the file's columns, so the person can map them. */
    columns?: string[];
  };
}

export type DatasetWorkerRequest = AnalyzeRequest;
export type DatasetWorkerEvent = AnalysisProgress | AnalysisResult | AnalysisFailure;
