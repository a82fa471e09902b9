/**
 * The dataset preview follows the setup's prompt-masking switch (issue 9): with masking on, a
 * prompt-completion row's prompt tokens are shown as masked; with it off, every token is trained.
 * Runs the real dataset worker handler in process, as the studio's worker would.
 */
import 'fake-indexeddb/auto';
import { createStore } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { createStore as createZustand } from 'zustand/vanilla';
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { datasetLibrary } from '../storage/dataset-library';
import { datasetAnalyzer, type WorkerLike } from '../workers/dataset-client';
import { handleDatasetRequest } from '../workers/dataset-handler';
import type { DatasetWorkerEvent, DatasetWorkerRequest, PreviewRow } from '../workers/dataset-protocol';
import { type DatasetSlice, datasetSliceWith } from './dataset-slice';

const files = Object.fromEntries(
  Object.entries(tinyModelFiles({ family: 'llama' })).map(([name, content]) => [
    name,
    typeof content === 'string' ? new TextEncoder().encode(content) : content,
  ]),
);

function inProcessWorker(): WorkerLike {
  let listener: ((event: MessageEvent<DatasetWorkerEvent>) => void) | undefined;
  return {
    postMessage: (request: DatasetWorkerRequest) =>
      void handleDatasetRequest(request, (event) =>
        listener?.({ data: event } as MessageEvent<DatasetWorkerEvent>),
      ),
    addEventListener: ((type: string, l: (event: MessageEvent<DatasetWorkerEvent>) => void) => {
      if (type === 'message') listener = l;
    }) as WorkerLike['addEventListener'],
  };
}

const qa = '{"prompt": "Q: hi there ", "completion": "A: hello"}\n';

async function previewWith(maskPrompt: boolean) {
  const library = datasetLibrary({
    store: createStore(`mask-preview-${Math.random()}`, 'datasets'),
    storage: { estimate: async () => ({ usage: 0, quota: 1e9 }) },
    newId: () => `id-${Math.random()}`,
    now: () => 0,
  });
  const analyzer = datasetAnalyzer(inProcessWorker);
  const store = createZustand<DatasetSlice>()(
    datasetSliceWith({ library: () => library, analyzer: () => analyzer }),
  );
  const context = { tokenizer: { modelId: 'tiny', files }, maxLength: 64, maskPrompt };
  await store.getState().loadDatasetLibrary(context);
  await store.getState().importDatasetFile(new File([qa], 'qa.jsonl'), context);
  const work = store.getState().dataset.work;
  if (work.status !== 'ready') throw new Error(`analysis did not finish: ${work.status}`);
  const row = work.analysis.preview[0] as PreviewRow;
  if (row.kind !== 'tokens') throw new Error(`expected a tokenized row, got ${row.kind}`);
  return row;
}

describe('the dataset preview and the prompt-masking switch', () => {
  it('masks the prompt only when the switch is on', async () => {
    const masked = await previewWith(true);
    const unmasked = await previewWith(false);
    expect(masked.tokens).toBe(unmasked.tokens);
    expect(unmasked.trainedTokens).toBe(unmasked.tokens);
    expect(unmasked.spans.every((s) => s.trained)).toBe(true);
    expect(masked.trainedTokens).toBeLessThan(masked.tokens);
    expect(masked.spans.some((s) => !s.trained && s.text.includes('hi'))).toBe(true);
  });
});
