/**
 * The kept run specs: a spec goes in without its model bytes or dataset blob, comes back runnable from
 * the model's files and the library file, survives a new store handle on the same database (a reload),
 * is gone after remove, and the picker's availability names what is missing.
 */
import 'fake-indexeddb/auto';
import { createStore } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { defaultTrainConfig } from '../../train/train-config';
import type { RunSpec } from '../../train/worker/run-spec';
import { keepRunSpecWith } from '../state/keep-run-spec';
import type { RunRecord } from '../state/run-record';
import {
  type KeptRunSpec,
  keptSpecOf,
  RunSpecNotKeptError,
  restoreSpec,
  runSpecStore,
  specAvailability,
} from './run-spec-store';

const modelFiles = { 'config.json': new Uint8Array([1, 2, 3]) };
const fileSpec: RunSpec = {
  modelName: 'tiny',
  modelFiles,
  method: { method: 'lora', r: 2, alpha: 4, dropout: 0 },
  train: { ...defaultTrainConfig, steps: 7 },
  checkpointEvery: 5,
  data: {
    file: { blob: new Blob(['{"text":"a"}\n']), fileName: 'a.jsonl', skipBadRows: true },
    validationFraction: 0.1,
    maskPrompt: false,
    packing: true,
  },
};

const keptOf = (runId: string, spec: RunSpec, datasetId: string | null, savedAt = 1): KeptRunSpec => ({
  runId,
  kind: 'run',
  label: `Run ${runId}`,
  modelId: 'builtin-tiny-llama',
  spec: keptSpecOf(spec, datasetId),
  savedAt,
});

describe('run spec store', () => {
  it('keeps a spec without bytes and rebuilds it after a reload, until removed', async () => {
    const name = `run-specs-test-${Math.random()}`;
    const store = runSpecStore(createStore(name, 'specs'));
    const kept = keptOf('r1', fileSpec, 'ds-9', 2);
    expect(kept.spec).not.toHaveProperty('modelFiles');
    expect(kept.spec).not.toHaveProperty('checkpointEvery');
    expect(kept.spec.data?.file).toEqual({ fileName: 'a.jsonl', skipBadRows: true, datasetId: 'ds-9' });
    await store.save(kept);
    await store.save(keptOf('r0', { ...fileSpec, data: undefined, trainTexts: ['x'] }, null, 1));

    const reopened = runSpecStore(createStore(name, 'specs'));
    expect((await reopened.list()).map((k) => k.runId)).toEqual(['r0', 'r1']);
    const loaded = await reopened.load('r1');
    if (!loaded) throw new Error('r1 was not kept');
    const blob = new Blob(['{"text":"b"}\n']);
    const spec = restoreSpec(loaded, modelFiles, blob);
    expect(spec.modelFiles).toBe(modelFiles);
    expect(spec.data?.file?.blob).toBe(blob);
    expect(spec.data).toMatchObject({ validationFraction: 0.1, maskPrompt: false, packing: true });
    expect(spec.train.steps).toBe(7);
    expect(() => restoreSpec(loaded, modelFiles, undefined)).toThrow(RunSpecNotKeptError);

    await reopened.remove('r1');
    expect(await reopened.load('r1')).toBeUndefined();
    expect((await reopened.list()).map((k) => k.runId)).toEqual(['r0']);
  });

  it('refuses a library file with no id to keep it by', () => {
    expect(() => keptSpecOf(fileSpec, null)).toThrow(/no library id/);
  });

  it('offers a kept run only when its dataset and model are here, and says which is missing', () => {
    const kept = keptOf('r1', fileSpec, 'ds-9');
    const cached = (id: string) => id === 'builtin-tiny-llama';
    expect(specAvailability(kept, { hasModel: cached, datasetIds: new Set(['ds-9']) })).toEqual({ ok: true });
    const noData = specAvailability(kept, { hasModel: cached, datasetIds: new Set(['ds-1']) });
    expect(noData.ok ? '' : noData.reason).toMatch(/^dataset deleted.*a\.jsonl/);
    const noModel = specAvailability(kept, { hasModel: () => false, datasetIds: new Set(['ds-9']) });
    expect(noModel.ok ? '' : noModel.reason).toMatch(/model not in this browser's cache/);
    // Pasted texts need no library entry: only the model matters.
    const texts = keptOf('r2', { ...fileSpec, data: undefined, trainTexts: ['x'] }, null);
    expect(specAvailability(texts, { hasModel: cached, datasetIds: new Set() })).toEqual({ ok: true });
  });

  it('keeps a started run by its library id, and skips a file the library does not hold', async () => {
    const store = runSpecStore(createStore(`run-specs-test-${Math.random()}`, 'specs'));
    const blob = fileSpec.data?.file?.blob as Blob;
    const record = { id: 'r7', label: 'LoRA r=2', settings: { modelId: 'm-1' } } as RunRecord;
    const keep = keepRunSpecWith(
      () => store,
      (b) => (b === blob ? 'ds-3' : null),
      () => 42,
    );
    await keep(record, fileSpec);
    expect(await store.load('r7')).toMatchObject({
      runId: 'r7',
      kind: 'run',
      label: 'LoRA r=2',
      modelId: 'm-1',
      savedAt: 42,
      spec: { data: { file: { datasetId: 'ds-3' } } },
    });
    const other = { ...fileSpec, data: { file: { blob: new Blob(['x']), fileName: 'b.jsonl' } } };
    await keep({ ...record, id: 'r8' }, other);
    expect(await store.load('r8')).toBeUndefined();
  });
});
