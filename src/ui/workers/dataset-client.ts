/**
 * The page's side of the dataset worker: `analyze` sends one request and resolves with its analysis, or
 * rejects with a `DatasetAnalysisError` that keeps the worker's error name, message, line and columns.
 * Replies are matched by id, so several files can be in flight. The worker is made on first use.
 */
import type {
  AnalysisFailure,
  AnalysisProgress,
  AnalyzeRequest,
  DatasetAnalysis,
  DatasetWorkerEvent,
  DatasetWorkerRequest,
} from './dataset-protocol';

/** A file the worker could not read, with the worker's own error name (DatasetRowError, ...). */
export class DatasetAnalysisError extends Error {
  override readonly name = 'DatasetAnalysisError';
  readonly errorName: string;
  readonly line?: number;
  readonly unit?: 'line' | 'row';
  readonly columns?: string[];
  constructor(failure: AnalysisFailure['error']) {
    super(failure.message);
    this.errorName = failure.name;
    this.line = failure.line;
    this.unit = failure.unit;
    this.columns = failure.columns;
  }
}

export interface WorkerLike {
  postMessage(message: DatasetWorkerRequest): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<DatasetWorkerEvent>) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
}

export interface DatasetAnalyzer {
  analyze(
    request: Omit<AnalyzeRequest, 'kind' | 'id'>,
    onProgress?: (progress: AnalysisProgress) => void,
  ): Promise<DatasetAnalysis>;
}

interface Pending {
  resolve(analysis: DatasetAnalysis): void;
  reject(error: Error): void;
  onProgress?: (progress: AnalysisProgress) => void;
}

export function datasetAnalyzer(makeWorker: () => WorkerLike): DatasetAnalyzer {
  let worker: WorkerLike | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const start = () => {
    const w = makeWorker();
    w.addEventListener('message', (event) => {
      const message = event.data;
      const waiting = pending.get(message.id);
      if (!waiting) return;
      if (message.kind === 'progress') waiting.onProgress?.(message);
      else {
        pending.delete(message.id);
        if (message.kind === 'analysis') waiting.resolve(message.analysis);
        else waiting.reject(new DatasetAnalysisError(message.error));
      }
    });
    w.addEventListener('error', (event) => {
      // The worker itself failed (it could not load): every request waiting on it fails with the reason.
      for (const waiting of pending.values())
        waiting.reject(new Error(`The dataset worker stopped: ${event.message || 'it failed to load'}.`));
      pending.clear();
      worker = undefined;
    });
    return w;
  };

  return {
    analyze(request, onProgress) {
      worker ??= start();
      const id = nextId++;
      const sent = worker;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, onProgress });
        sent.postMessage({ kind: 'analyze', id, ...request });
      });
    },
  };
}

/** The app's analyzer: a module worker beside this file. */
export function browserDatasetAnalyzer(): DatasetAnalyzer {
  return datasetAnalyzer(
    () =>
      new Worker(new URL('./dataset-worker.ts', import.meta.url), {
        type: 'module',
        name: 'whetstone-datasets',
      }) as unknown as WorkerLike,
  );
}
