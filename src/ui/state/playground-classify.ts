/**
 * The playground's classifiers (folded into the playground slice): one typed text, and an optional
 * second sentence for pair tasks, sent with `classify` to every classification run of this session that
 * ended with its model, and to every kept adapter chosen in the playground whose base model is an
 * encoder classifier. Each answers with its class probabilities, shown as bars, with the worker's own
 * time for it and the round trip measured here. The base classifier is not asked: its head is untrained
 * (seeded random or freshly initialised), so its probabilities would say nothing.
 */
import type { ClassifyInput, GenerateTarget } from '../../train/worker/protocol';
import type { StudioTrainer } from '../../train/worker/training-client';
import { findModel, isClassifierModel } from '../models/model-catalogue';
import type { AdapterEntry } from './adapter-store';
import { keptAdapterTarget } from './kept-adapter-target';
import type { RunRecord } from './run-record';

export interface ClassifyColumn {
  /** The run id, or 'adapter:<library id>'. */
  key: string;
  label: string;
  color: string;
  status: 'classifying' | 'done' | 'failed';
  /** Class names in class-id order and the softmax probability of each, as the worker sent them. */
  labels?: string[];
  probabilities?: number[];
  /** Measured in the worker, from the request to its reply. */
  elapsedMs?: number;
  /** Measured on the page, from sending the request to receiving the reply. */
  roundTripMs?: number;
  error?: string;
}

export interface ClassifyState {
  text: string;
  /** The second sentence of a pair; blank: the text alone. */
  pair: string;
  columns: ClassifyColumn[];
  problem: string | null;
}

export const emptyClassify: ClassifyState = { text: '', pair: '', columns: [], problem: null };

export const isClassificationRecord = (record: RunRecord) => record.settings.task === 'classification';

/** A classification run that can answer: it ended in this worker with its model. */
export const canClassify = (record: RunRecord, files: Record<string, Uint8Array> | undefined) =>
  isClassificationRecord(record) &&
  (record.status === 'finished' || record.status === 'stopped') &&
  files !== undefined;

/** A kept adapter whose base model is an encoder classifier loaded in the studio. */
export const isClassifierAdapter = (entry: AdapterEntry) =>
  entry.modelId !== undefined && isClassifierModel(findModel(entry.modelId));

export interface ClassifyTarget {
  column: ClassifyColumn;
  target: GenerateTarget;
}

/** The runs and chosen kept adapters that classify, in the order they are shown. */
export function classifyTargets(
  runs: RunRecord[],
  runFiles: Record<string, Record<string, Uint8Array>>,
  adapters: AdapterEntry[],
  chosenAdapterIds: string[],
): ClassifyTarget[] {
  const targets: ClassifyTarget[] = runs
    .filter((run) => canClassify(run, runFiles[run.id]))
    .map((run) => ({
      column: { key: run.id, label: run.label, color: run.color, status: 'classifying' },
      target: { kind: 'run', runId: run.id },
    }));
  for (const entry of adapters) {
    if (!chosenAdapterIds.includes(entry.id) || !isClassifierAdapter(entry)) continue;
    const model = findModel(entry.modelId as string);
    if (!model) continue;
    const { column, target } = keptAdapterTarget(entry, model);
    targets.push({ column: { ...column, status: 'classifying' }, target });
  }
  return targets;
}

/** The typed input, or why it cannot be classified. */
export function readClassifyInput(state: Pick<ClassifyState, 'text' | 'pair'>): ClassifyInput | string {
  const text = state.text.trim();
  if (text === '') return 'Type a text (or the first sentence of a pair) to classify.';
  const pair = state.pair.trim();
  return pair === '' ? { text } : { text, pair };
}

/**
 * Sends the input to every target at once and reports each answer through `patch` as it comes; the
 * worker takes the requests in turn on its one device.
 */
export async function classifyAll(
  trainer: StudioTrainer,
  targets: ClassifyTarget[],
  input: ClassifyInput,
  patch: (key: string, change: Partial<ClassifyColumn>) => void,
  now: () => number = () => performance.now(),
): Promise<void> {
  await Promise.all(
    targets.map(async ({ column, target }) => {
      const sent = now();
      try {
        const answer = await trainer.classify(target, input);
        patch(column.key, {
          status: 'done',
          labels: answer.labels,
          probabilities: answer.probabilities,
          elapsedMs: answer.elapsedMs,
          roundTripMs: now() - sent,
        });
      } catch (error) {
        patch(column.key, {
          status: 'failed',
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
      }
    }),
  );
}
