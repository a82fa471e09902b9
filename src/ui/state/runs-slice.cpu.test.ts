import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import { defaultTrainConfig } from '../../train/train-config';
import type { StepProgress, WorkerEvent } from '../../train/worker/protocol';
import type { RunSpec } from '../../train/worker/run-spec';
import { type TrainingClient, WorkerError } from '../../train/worker/training-client';
import { createHistorySlice, type HistorySlice } from './history-slice';
import { memoryRunArchive } from './run-archive';
import type { RunRecord } from './run-record';
import type { RunPlan } from './run-setup';
import { createRunsSlice, type RunsSlice } from './runs-slice';

/** A training client that records requests and lets the test emit the worker's events. */
function fakeClient(failStart?: string) {
  let listener: (event: WorkerEvent) => void = () => {};
  const started: string[] = [];
  const stopped: string[] = [];
  const client: TrainingClient = {
    probe: async () => {
      throw new Error('not used');
    },
    startRun: async (runId) => {
      if (failStart) throw new WorkerError('ModelTooLargeError', failStart);
      started.push(runId);
      return { totalSteps: 2, trainableParams: 10, totalParams: 100 };
    },
    stopRun: async (runId) => {
      stopped.push(runId);
    },
    onEvent: (l) => {
      listener = l;
      return () => {};
    },
    dispose: () => {},
  };
  return { client, started, stopped, emit: (event: WorkerEvent) => listener(event) };
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

function setUp(failStart?: string) {
  const fake = fakeClient(failStart);
  const archive = memoryRunArchive();
  let n = 0;
  const store = createStore<RunsSlice & HistorySlice>()((...a) => ({
    ...createRunsSlice({ trainer: () => fake.client, newId: () => `id${++n}`, now: () => 1000 })(...a),
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
});
