/**
 * The training worker's entry: one GPU device for every run in this worker, messages in, events out.
 * Started by `WorkerTrainer` with `new Worker(new URL('./training-worker.ts', import.meta.url), { type: 'module' })`.
 */
import { acquireDevice } from '../../gpu/device/acquire-device';
import { createRuntime, type Runtime } from '../../gpu/runtime';
import { createHandler } from './handler';
import type { WorkerMessage, WorkerRequest } from './protocol';
import { openAdapterModel, openBaseModel, openRun, openScoringModel } from './run-engine';

let runtime: Promise<Runtime> | undefined;

const post = (message: WorkerMessage) => {
  const transfer =
    message.kind === 'run-finished' ? Object.values(message.files).map((f) => f.buffer as ArrayBuffer) : [];
  (self as unknown as Worker).postMessage(message, transfer);
};

const handle = createHandler({
  post,
  runtime: () => {
    runtime ??= acquireDevice({ label: 'training worker' }).then((gpu) => {
      // A lost device ends every run with a message that says what to do (the page marks them
      // interrupted and offers to resume from their last checkpoint); the next request opens a new device.
      void gpu.lost.then((lost) => {
        if (!lost) return;
        runtime = undefined;
        post({ kind: 'error', name: lost.name, message: lost.message });
      });
      return createRuntime(gpu);
    });
    return runtime;
  },
  openRun,
  openBase: openBaseModel,
  openAdapter: openAdapterModel,
  openScoring: openScoringModel,
  now: () => performance.now(),
});

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  void handle(event.data);
};
