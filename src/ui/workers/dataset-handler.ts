/**
 * The dataset worker's message handler, apart from the worker global so it runs in Node tests with an
 * injected `post`: an `analyze` request gets progress events, then one `analysis` or one `failure`,
 * every one carrying the request's id. It never throws: a bad file is a failure message.
 */
import { analyzeDataset, describeFailure } from './dataset-analysis';
import type { DatasetWorkerEvent, DatasetWorkerRequest } from './dataset-protocol';

/** Progress events at most this often (ms), plus the last one, so a fast read does not flood the page. */
const PROGRESS_INTERVAL_MS = 50;

export async function handleDatasetRequest(
  request: DatasetWorkerRequest,
  post: (event: DatasetWorkerEvent) => void,
  now: () => number = () => performance.now(),
): Promise<void> {
  const { id } = request;
  let lastSent = Number.NEGATIVE_INFINITY;
  try {
    const { kind: _kind, id: _id, ...rest } = request;
    const analysis = await analyzeDataset(rest, (phase, done, total) => {
      const t = now();
      if (done < total && done > 0 && t - lastSent < PROGRESS_INTERVAL_MS) return;
      lastSent = t;
      post({ kind: 'progress', id, phase, done, total });
    });
    post({ kind: 'analysis', id, analysis });
  } catch (error) {
    post(describeFailure(id, error));
  }
}
