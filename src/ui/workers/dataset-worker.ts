/**
 * The dataset worker: reads, parses and tokenizes a dropped or stored file off the main thread, so a
 * large file never freezes the page. One request at a time per message; progress goes out as it is
 * made. The work itself is `handleDatasetRequest` (dataset-handler.ts), tested in Node.
 */
import { handleDatasetRequest } from './dataset-handler';
import type { DatasetWorkerEvent, DatasetWorkerRequest } from './dataset-protocol';

const post = (event: DatasetWorkerEvent) => (self as unknown as Worker).postMessage(event);

self.addEventListener('message', (event: MessageEvent<DatasetWorkerRequest>) => {
  void handleDatasetRequest(event.data, post);
});
