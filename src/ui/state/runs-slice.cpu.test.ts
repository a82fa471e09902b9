import 'fake-indexeddb/auto';
import { createStore as idbCreateStore } from 'idb-keyval';
import { describe, expect, it, vi } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { CheckpointState } from '../../train/checkpoint-state';
import { defaultTrainConfig } from '../../train/train-config';
import type { StepProgress } from '../../train/worker/protocol';
import type { RunSpec } from '../../train/worker/run-spec';
import { type RunEvent, type StudioTrainer, WorkerError } from '../../train/worker/training-client';
import { checkpointStore } from '../storage/checkpoint-store';
import { createHistorySlice, type HistorySlice } from './history-slice';
import { memoryRunArchive } from './run-archive';
import type { RunRecord } from './run-record';
import type { RunPlan } from './run-setup';
import { createRunsSlice, type RunsDeps, type RunsSlice } from './runs-slice';

/** A training client that records requests and lets the test emit the worker's events. */
function fakeClient(failStart?: string) {
  let listener: (event: RunEvent) => void = () => {};
  const started: string[] = [];
  const stopped: string[] = [];
  const paused: string[] = [];
  const released: string[] = [];
  const specs: RunSpec[] = [];
  const client: StudioTrainer = {
    probe: async () => {
      throw new Error('not used');
    },
    startRun: async (runId, spec) => {
      if (failStart) throw new WorkerError('ModelTooLargeError', failStart);
      started.push(runId);
      specs.push(spec);
      return { totalSteps: 2, trainableParams: 10, totalParams: 100 };
    },
    stopRun: async (runId) => {
      stopped.push(runId);
    },
    releaseRun: async (runId) => {
      released.push(runId);
      return 100;
    },
    pauseRun: async (runId) => {
      paused.push(runId);
    },
    resumeRun: async (runId) => {
      paused.splice(paused.indexOf(runId), 1);
    },
    generate: async () => {
      throw new Error('not used');
    },
    evaluate: async () => {
      throw new Error('not used');
    },
    classify: async () => {
      throw new Error('not used');
    },
    onEvent: (l) => {
      listener = l;
      return () => {};
    },
    dispose: () => {},
  };
  return { client, started, stopped, paused, released, specs, emit: (event: RunEvent) => listener(event) };
}

const progress = (step: number, loss: number): StepProgress => ({
  step,
  totalSteps: 2,
  loss,
  lr: 1e-3,
  gradNorm: 0.5,
  tokensPerSecond: 1000,
  stepTimeMs: 10,
  gpuBytes: 1024,
  peakGpuBytes: 2048,
  trainableParams: 10,
  totalParams: 100,
  elapsedMs: step * 10,
});

const plan = (label: string): RunPlan => {
  const train = { ...defaultTrainConfig, steps: 2 };
  const method = { method: 'full' } as const;
  const spec: RunSpec = {
    modelFiles: {},
    modelName: 'm',
    method,
    train,
    trainTexts: ['a'],
    validationTexts: ['a'],
  };
  const settings = {
    modelId: 'm',
    modelLabel: 'M',
    method,
    train,
    trainExamples: 1,
    validationExamples: 1,
    validationHeldOut: false,
  };
  return { label, settings, spec };
};

function setUp(failStart?: string, extra: Partial<RunsDeps> = {}, archive = memoryRunArchive()) {
  const fake = fakeClient(failStart);
  let n = 0;
  const store = createStore<RunsSlice & HistorySlice>()((...a) => ({
    ...createRunsSlice({ trainer: () => fake.client, newId: () => `id${++n}`, now: () => 1000, ...extra })(
      ...a,
    ),
    ...createHistorySlice(archive)(...a),
  }));
  return { store, archive, ...fake };
}

describe('runs slice', () => {
  it('starts runs, folds their events in, keeps their files, and archives them when they end', async () => {
    const { store, archive, emit, started } = setUp();
    const [a, b] = await store.getState().startRuns([plan('Full SFT'), plan('LoRA r8')]);
    expect(started).toEqual([a, b]);
    expect(store.getState().runs[a as string]).toMatchObject({
      status: 'running',
      totalParams: 100,
      groupId: 'id1',
    });

    emit({ kind: 'progress', runId: a as string, progress: progress(1, 5.5) });
    emit({ kind: 'progress', runId: b as string, progress: progress(1, 5.6) });
    emit({ kind: 'progress', runId: a as string, progress: progress(2, 5.2) });
    emit({ kind: 'eval', runId: a as string, step: 2, loss: 5.3 });
    const files = { 'model.safetensors': new Uint8Array(8) };
    emit({ kind: 'run-finished', runId: a as string, files, stopped: false });

    const run = store.getState().runs[a as string];
    expect(run?.status).toBe('finished');
    expect(run?.history.map((p) => p.loss)).toEqual([5.5, 5.2]);
    expect(run?.evals).toEqual([{ step: 2, loss: 5.3, elapsedMs: 20 }]);
    expect(run?.outputs).toEqual([{ name: 'model.safetensors', bytes: 8 }]);
    expect(store.getState().runFiles[a as string]).toBe(files);
    expect(store.getState().runs[b as string]?.history).toHaveLength(1);

    emit({ kind: 'run-finished', runId: b as string, files: {}, stopped: true });
    const kept = await archive.list();
    expect(kept.map((r) => r.id)).toEqual([a, b]);
    expect(kept[0]?.history).toHaveLength(2);
    expect(
      store
        .getState()
        .history.runs.map((r) => r.id)
        .sort(),
    ).toEqual([a, b].sort());
  });

  it('lists the runs of a group, which share a start time, in their order', async () => {
    const { store } = setUp();
    const [a, b] = await store.getState().startRuns([plan('Full SFT'), plan('LoRA r8')]);
    const archive = memoryRunArchive();
    await archive.save(store.getState().runs[b as string] as RunRecord);
    await archive.save(store.getState().runs[a as string] as RunRecord);
    expect((await archive.list()).map((r) => r.label)).toEqual(['Full SFT', 'LoRA r8']);
  });

  it('shows a run error next to its run only, and a run-less error on every active run', async () => {
    const { store, emit } = setUp();
    const [a, b, c] = await store.getState().startRuns([plan('A'), plan('B'), plan('C')]);
    emit({ kind: 'error', runId: a as string, name: 'NaNLossError', message: 'The loss is NaN at step 3.' });
    expect(store.getState().runs[a as string]).toMatchObject({
      status: 'failed',
      error: { name: 'NaNLossError', message: 'The loss is NaN at step 3.' },
    });
    expect(store.getState().runs[b as string]?.status).toBe('running');
    emit({ kind: 'run-finished', runId: c as string, files: {}, stopped: true });
    emit({ kind: 'error', name: 'GpuDeviceLostError', message: 'The GPU was lost; reload to continue.' });
    expect(store.getState().runs[b as string]?.error?.name).toBe('GpuDeviceLostError');
    expect(store.getState().runs[c as string]).toMatchObject({ status: 'stopped', error: null });
    expect(store.getState().runs[a as string]?.error?.name).toBe('NaNLossError');
  });

  it('marks a run that the worker refuses to start as failed, with the reason', async () => {
    const { store } = setUp('This run does not fit this GPU.');
    const [a] = await store.getState().startRuns([plan('Full SFT')]);
    expect(store.getState().runs[a as string]).toMatchObject({
      status: 'failed',
      error: { name: 'ModelTooLargeError', message: 'This run does not fit this GPU.' },
    });
    expect(store.getState().history.runs).toHaveLength(1);
  });

  it('asks the worker to stop a run, and clears ended runs from the live view', async () => {
    const { store, emit, stopped } = setUp();
    const [a, b] = await store.getState().startRuns([plan('A'), plan('B')]);
    await store.getState().stopRun(a as string);
    expect(stopped).toEqual([a]);
    expect(store.getState().stopping).toEqual({ [a as string]: true });
    emit({ kind: 'run-finished', runId: a as string, files: {}, stopped: true });
    expect(store.getState().stopping).toEqual({});
    store.getState().clearEndedRuns();
    expect(store.getState().runOrder).toEqual([b]);
  });

  it('pauses and resumes a running run through the worker, and ignores runs not running', async () => {
    const { store, paused } = setUp();
    const [a] = await store.getState().startRuns([plan('A')]);
    const id = a as string;
    expect(store.getState().runs[id]?.status).toBe('running');
    await store.getState().pauseRun(id);
    expect(paused).toEqual([id]);
    expect(store.getState().runs[id]?.status).toBe('paused');
    // Pausing again asks nothing more of the worker.
    await store.getState().pauseRun(id);
    expect(paused).toEqual([id]);
    await store.getState().resumeRun(id);
    expect(paused).toEqual([]);
    expect(store.getState().runs[id]?.status).toBe('running');
  });

  it('shows a pause as pending until the worker has finished its step, and asks only once', async () => {
    const { store, client, paused } = setUp();
    const [a] = await store.getState().startRuns([plan('A')]);
    const id = a as string;
    let finishStep = () => {};
    const pauseInWorker = client.pauseRun;
    client.pauseRun = (runId) =>
      new Promise<void>((resolve) => {
        finishStep = () => void pauseInWorker(runId).then(resolve);
      });
    const pausing = store.getState().pauseRun(id);
    expect(store.getState().pausing).toEqual({ [id]: true });
    expect(store.getState().runs[id]?.status).toBe('running');
    await store.getState().pauseRun(id);
    finishStep();
    await pausing;
    expect(paused).toEqual([id]);
    expect(store.getState().pausing).toEqual({});
    expect(store.getState().runs[id]?.status).toBe('paused');
  });

  it('marks active runs interrupted, not failed, when the GPU device is lost', async () => {
    const { store, emit } = setUp();
    const [a] = await store.getState().startRuns([plan('A')]);
    emit({ kind: 'error', name: 'GpuDeviceLostError', message: 'The GPU device was lost.' });
    expect(store.getState().runs[a as string]).toMatchObject({
      status: 'interrupted',
      error: { name: 'GpuDeviceLostError' },
    });
  });

  it('resumes an interrupted run from its last checkpoint, keeping the curve up to it', async () => {
    const { store, emit, started, specs } = setUp();
    const [a] = await store.getState().startRuns([plan('A')]);
    const id = a as string;
    emit({ kind: 'progress', runId: id, progress: progress(1, 2) });
    const checkpoint = { position: { step: 1, epoch: 0, queue: [] }, method: 'full' } as never;
    emit({ kind: 'checkpoint', runId: id, step: 1, checkpoint });
    emit({ kind: 'progress', runId: id, progress: progress(2, 1.5) });
    emit({ kind: 'error', name: 'GpuDeviceLostError', message: 'lost' });
    expect(store.getState().runs[id]).toMatchObject({ status: 'interrupted', checkpointStep: 1 });
    await store.getState().resumeInterrupted(id);
    expect(started).toEqual([id, id]);
    expect(specs[0]?.resumeFrom).toBeUndefined();
    expect(specs[1]?.resumeFrom).toBe(checkpoint);
    const record = store.getState().runs[id];
    expect(record?.status).toBe('running');
    expect(record?.history.map((p) => p.step)).toEqual([1]);
    expect(record?.error).toBeNull();
  });

  it('gives ended runs their GPU memory back when they leave the comparison', async () => {
    const { store, emit, released } = setUp();
    const [a, b] = await store.getState().startRuns([plan('Full SFT'), plan('LoRA r8')]);
    emit({ kind: 'run-finished', runId: a as string, files: {}, stopped: false });
    // Still training: not released, and it stays on the comparison.
    const [c] = await store.getState().startRuns([plan('DoRA')]);
    expect(released).toEqual([a]);
    expect(store.getState().runOrder).toEqual([b, c]);
    emit({ kind: 'run-finished', runId: b as string, files: {}, stopped: true });
    store.getState().clearEndedRuns();
    expect(released).toEqual([a, b]);
    expect(store.getState().runOrder).toEqual([c]);
    expect(await store.getState().releaseRun(c as string)).toBe(0);
    // Ended runs are still in the history.
    expect(store.getState().history.runs.map((r) => r.id)).toEqual([a, b]);
  });

  it('keeps checkpoints across a reload and resumes from them, the time axis going on', async () => {
    const checkpoints = checkpointStore({
      store: idbCreateStore(`runs-checkpoints-${Math.random()}`, 'checkpoints'),
      storage: { estimate: async () => ({ usage: 0, quota: 1e9 }) },
    });
    const archive = memoryRunArchive();
    const modelFiles = { 'config.json': new Uint8Array([1, 2]) };
    const before = setUp(undefined, { checkpoints }, archive);
    const [id] = await before.store.getState().startRuns([plan('LoRA r8')]);
    const runId = id as string;
    const state = (step: number): CheckpointState => ({
      position: { step, epoch: 0, queue: [] },
      config: defaultTrainConfig,
      method: 'full',
      tensors: new Map([['param:w', { shape: [2], data: new Float32Array([step, -step]) }]]),
    });
    before.emit({ kind: 'progress', runId, progress: progress(1, 5.5) });
    before.emit({ kind: 'checkpoint', runId, step: 1, checkpoint: state(1) });
    before.emit({ kind: 'progress', runId, progress: progress(2, 5.2) });
    before.emit({ kind: 'checkpoint', runId, step: 2, checkpoint: state(2) });
    before.emit({ kind: 'progress', runId, progress: progress(3, 5.0) });
    await vi.waitFor(async () => expect((await checkpoints.load(runId))?.step).toBe(2));
    await vi.waitFor(async () => expect((await archive.list())[0]?.checkpointStep).toBe(2));
    const onDisk = (await archive.list())[0];
    expect(onDisk).toMatchObject({ status: 'interrupted', checkpointStep: 2 });
    expect(onDisk?.history.map((p) => p.step)).toEqual([1, 2]);
    // The live run is not shown in the history while it trains.
    expect(before.store.getState().history.runs).toEqual([]);
    expect((await checkpoints.load(runId))?.spec).not.toHaveProperty('modelFiles');

    // The tab closes; a new page finds the run interrupted in the history and resumes it.
    const after = setUp(
      undefined,
      { checkpoints, modelFiles: (m) => (m === 'm' ? modelFiles : undefined) },
      archive,
    );
    await after.store.getState().loadHistory();
    expect(after.store.getState().history.runs.map((r) => [r.id, r.status])).toEqual([
      [runId, 'interrupted'],
    ]);
    await after.store.getState().resumeStoredRun(runId);
    expect(after.started).toEqual([runId]);
    const resumed = after.specs[0] as RunSpec;
    expect(resumed.modelFiles).toBe(modelFiles);
    expect(resumed.resumeFrom?.position.step).toBe(2);
    expect([...(resumed.resumeFrom?.tensors.get('param:w')?.data ?? [])]).toEqual([2, -2]);
    expect(resumed.elapsedMsBefore).toBe(20);
    expect(after.store.getState().runs[runId]).toMatchObject({ status: 'running' });
    expect(after.store.getState().runs[runId]?.history.map((p) => p.step)).toEqual([1, 2]);
    after.emit({ kind: 'progress', runId, progress: { ...progress(3, 4.9), elapsedMs: 35 } });
    after.emit({ kind: 'run-finished', runId, files: {}, stopped: false });
    await vi.waitFor(async () => expect((await archive.list())[0]?.status).toBe('finished'));
    expect((await archive.list())[0]?.history.map((p) => p.elapsedMs)).toEqual([10, 20, 35]);
    await vi.waitFor(async () => expect(await checkpoints.load(runId)).toBeUndefined());
  });

  it('says why a stored run cannot resume: no model files in this page', async () => {
    const checkpoints = checkpointStore({
      store: idbCreateStore(`runs-checkpoints-${Math.random()}`, 'checkpoints'),
      storage: {},
    });
    const archive = memoryRunArchive();
    const before = setUp(undefined, { checkpoints }, archive);
    const [id] = await before.store.getState().startRuns([plan('LoRA r8')]);
    const runId = id as string;
    before.emit({ kind: 'progress', runId, progress: progress(1, 5.5) });
    before.emit({
      kind: 'checkpoint',
      runId,
      step: 1,
      checkpoint: {
        position: { step: 1, epoch: 0, queue: [] },
        config: defaultTrainConfig,
        method: 'full',
        tensors: new Map(),
      },
    });
    await vi.waitFor(async () => expect((await archive.list())[0]?.status).toBe('interrupted'));
    const after = setUp(undefined, { checkpoints, modelFiles: () => undefined }, archive);
    await after.store.getState().loadHistory();
    await after.store.getState().resumeStoredRun(runId);
    expect(after.started).toEqual([]);
    expect(after.store.getState().checkpointProblems[runId]).toMatch(/Load M again in the model picker/);
  });
});
