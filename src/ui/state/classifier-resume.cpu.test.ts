/**
 * The studio checkpoints and resumes classification runs as it does language-model runs: a LoRA run of
 * the built-in tiny BERT on an MRPC-style library file is planned with checkpoints, its checkpoints go
 * to browser storage (fake IndexedDB) with its spec, and after a reload the run starts again from the
 * stored checkpoint as the same classification run on the same file (the rows read back equal), with
 * the model's files from the page and the checkpoint's tensors.
 */
import 'fake-indexeddb/auto';
import { createStore as idbCreateStore } from 'idb-keyval';
import { describe, expect, it, vi } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { CheckpointState } from '../../train/checkpoint-state';
import { readClassificationRows } from '../../train/classify/classifier-run-data';
import type { RunSpec } from '../../train/worker/run-spec';
import type { RunEvent, StudioTrainer } from '../../train/worker/training-client';
import { builtinTinyBert } from '../models/model-catalogue';
import { checkpointStore } from '../storage/checkpoint-store';
import { analyzeDataset } from '../workers/dataset-analysis';
import { type DatasetState, trainingDataOf } from './dataset-slice';
import { createHistorySlice, type HistorySlice } from './history-slice';
import { memoryRunArchive } from './run-archive';
import { defaultRunSetup, planRuns } from './run-setup';
import { createRunsSlice, type RunsDeps, type RunsSlice } from './runs-slice';

const rows = Array.from(
  { length: 20 },
  (_, i) => `${i % 2}\t${100 + i}\t${200 + i}\tThe cat sat .\t${i % 2 ? 'The cat sat .' : 'A dog !'}`,
);
const file = new Blob([`Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n${rows.join('\n')}\n`]);

async function classifierPlan() {
  const analysis = await analyzeDataset({ file, fileName: 'mrpc.tsv', settings: { skipBadRows: false } });
  const dataset = {
    source: 'library',
    fileName: 'mrpc.tsv',
    work: { status: 'ready', analysis, entryId: 'e1', file, settings: { skipBadRows: false } },
  } as unknown as DatasetState;
  const planning = planRuns(
    'sft-vs-lora',
    defaultRunSetup(builtinTinyBert.id),
    builtinTinyBert,
    trainingDataOf(dataset),
  );
  if (!planning.ok) throw new Error(planning.message);
  return planning.plans[1] as (typeof planning.plans)[number];
}

/** A worker stand-in that records the specs it is asked to start and lets the test emit its events. */
function setUp(extra: Partial<RunsDeps>, archive: ReturnType<typeof memoryRunArchive>) {
  let listener: (event: RunEvent) => void = () => {};
  const specs: RunSpec[] = [];
  const unused = async () => {
    throw new Error('not used');
  };
  const client: StudioTrainer = {
    probe: unused,
    startRun: async (_runId, spec) => {
      specs.push(spec);
      return { totalSteps: 30, trainableParams: 10, totalParams: 100 };
    },
    stopRun: unused,
    releaseRun: unused,
    pauseRun: unused,
    resumeRun: unused,
    generate: unused,
    evaluate: unused,
    classify: unused,
    onEvent: (l) => {
      listener = l;
      return () => {};
    },
    dispose: () => {},
  };
  const store = createStore<RunsSlice & HistorySlice>()((...a) => ({
    ...createRunsSlice({ trainer: () => client, newId: () => 'cls1', now: () => 1000, ...extra })(...a),
    ...createHistorySlice(archive)(...a),
  }));
  return { store, specs, emit: (event: RunEvent) => listener(event) };
}

describe('a studio classification run', () => {
  it('is checkpointed to browser storage and resumes from it after a reload', async () => {
    const plan = await classifierPlan();
    expect(plan.spec.task).toBe('classification');
    const every = plan.spec.checkpointEvery as number;
    expect(every).toBeGreaterThan(0);

    const checkpoints = checkpointStore({
      store: idbCreateStore(`classifier-checkpoints-${Math.random()}`, 'checkpoints'),
      storage: { estimate: async () => ({ usage: 0, quota: 1e9 }) },
    });
    const archive = memoryRunArchive();
    const before = setUp({ checkpoints }, archive);
    const [runId] = (await before.store.getState().startRuns([plan])) as [string];
    const saved: CheckpointState = {
      position: { step: every, epoch: 1, queue: [[3, 1]] },
      config: plan.spec.train,
      method: 'lora',
      dataFingerprint: '0123456789abcdef',
      tensors: new Map([['param:classifier.weight', { shape: [2], data: new Float32Array([0.5, -0.25]) }]]),
    };
    for (let step = 1; step <= every; step++)
      before.emit({
        kind: 'progress',
        runId,
        progress: {
          step,
          totalSteps: 30,
          loss: 0.7,
          lr: 1e-3,
          gradNorm: 0.5,
          tokensPerSecond: 1000,
          stepTimeMs: 10,
          gpuBytes: 1024,
          peakGpuBytes: 2048,
          trainableParams: 10,
          totalParams: 100,
          elapsedMs: step * 10,
        },
      });
    before.emit({ kind: 'checkpoint', runId, step: every, checkpoint: saved });
    await vi.waitFor(async () => expect((await checkpoints.load(runId))?.step).toBe(every));
    await vi.waitFor(async () => expect((await archive.list())[0]?.checkpointStep).toBe(every));

    // The tab closes; a new page resumes the interrupted classification run from storage.
    const modelFiles = builtinTinyBert.files();
    const after = setUp(
      { checkpoints, modelFiles: (id) => (id === builtinTinyBert.id ? modelFiles : undefined) },
      archive,
    );
    await after.store.getState().loadHistory();
    await after.store.getState().resumeStoredRun(runId);
    expect(after.store.getState().checkpointProblems[runId]).toBeUndefined();
    const resumed = after.specs[0] as RunSpec;
    expect(resumed.task).toBe('classification');
    expect(resumed.method).toEqual(plan.spec.method);
    expect(resumed.train).toEqual(plan.spec.train);
    expect(resumed.modelFiles).toBe(modelFiles);
    expect(resumed.checkpointEvery).toBe(every);
    expect(resumed.resumeFrom?.position).toEqual(saved.position);
    expect(resumed.resumeFrom?.dataFingerprint).toBe(saved.dataFingerprint);
    expect([...(resumed.resumeFrom?.tensors.get('param:classifier.weight')?.data ?? [])]).toEqual([
      0.5, -0.25,
    ]);
    // The worker reads the same rows from the stored file as from the original.
    const [was, now] = await Promise.all([
      readClassificationRows(plan.spec),
      readClassificationRows(resumed),
    ]);
    expect(now.dataset.examples).toEqual(was.dataset.examples);
    expect(now.labelSet).toEqual(was.labelSet);
  });
});
