/**
 * Classification runs in the studio's state, with a fake StudioTrainer: eval events' accuracy, F1 and
 * confusion matrix are kept in the run's record and in the archived history; "Classify" asks exactly the
 * classification runs that ended with their model (not the language-model run, not a failed run) and
 * keeps each answer's probabilities and the worker's time; "Generate" leaves classification runs out.
 */
import { describe, expect, it, vi } from 'vitest';
import { createStore } from 'zustand/vanilla';
import { defaultTrainConfig } from '../../train/train-config';
import type { ClassificationScores, GenerateTarget, StepProgress } from '../../train/worker/protocol';
import type { RunSpec } from '../../train/worker/run-spec';
import type { RunEvent, StudioTrainer } from '../../train/worker/training-client';
import { builtinTinyLlama } from '../models/model-catalogue';
import { createHistorySlice, type HistorySlice } from './history-slice';
import { createPlaygroundSlice, type PlaygroundSlice } from './playground-slice';
import { memoryRunArchive } from './run-archive';
import type { RunPlan } from './run-setup';
import { createRunsSlice, type RunsSlice } from './runs-slice';
import { createSetupSlice, type SetupSlice } from './setup-slice';

const unused = async (): Promise<never> => {
  throw new Error('not used');
};

function fakeTrainer() {
  let listener: (event: RunEvent) => void = () => {};
  const classified: { target: GenerateTarget; text: string; pair?: string }[] = [];
  const generated: GenerateTarget[] = [];
  const trainer: StudioTrainer = {
    probe: unused,
    startRun: async () => ({ totalSteps: 2, trainableParams: 10, totalParams: 100 }),
    stopRun: unused,
    pauseRun: unused,
    resumeRun: unused,
    releaseRun: async () => 0,
    evaluate: unused,
    generate: async (target) => {
      generated.push(target);
      return { text: 'x', tokens: 1, promptTokens: 1, templated: false, elapsedMs: 1 };
    },
    classify: async (target, input) => {
      classified.push({ target, ...input });
      // A different answer per run, so each column is seen to hold its own.
      const p = target.kind === 'run' && target.runId === 'id2' ? 0.9 : 0.25;
      return { labels: ['0', '1'], probabilities: [1 - p, p], elapsedMs: 7 };
    },
    onEvent: (l) => {
      listener = l;
      return () => {};
    },
    dispose: () => {},
  };
  return { trainer, classified, generated, emit: (e: RunEvent) => listener(e) };
}

const plan = (label: string, task?: 'classification'): RunPlan => {
  const train = { ...defaultTrainConfig, steps: 2 };
  const method = { method: 'lora', r: 8, alpha: 16, dropout: 0 } as const;
  const spec: RunSpec = { modelFiles: {}, modelName: 'm', method, train, ...(task ? { task } : {}) };
  const settings = {
    modelId: task ? 'builtin-tiny-bert' : builtinTinyLlama.id,
    modelLabel: 'M',
    method,
    train,
    trainExamples: 1,
    validationExamples: 1,
    validationHeldOut: true,
    ...(task ? { task } : {}),
  };
  return { label, settings, spec };
};

const progress = (step: number): StepProgress => ({
  step,
  totalSteps: 2,
  loss: 0.6,
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

const scores: ClassificationScores = {
  accuracy: 0.75,
  f1: 0.8,
  f1Kind: 'binary',
  confusion: [
    [1, 1],
    [0, 2],
  ],
  labels: ['0', '1'],
  count: 4,
};

function setUp() {
  const fake = fakeTrainer();
  const archive = memoryRunArchive();
  let n = 0;
  type Store = RunsSlice & HistorySlice & PlaygroundSlice & SetupSlice;
  const store = createStore<Store>()((...a) => ({
    ...createRunsSlice({ trainer: () => fake.trainer, newId: () => `id${++n}`, now: () => 1000 })(...a),
    ...createHistorySlice(archive)(...a),
    ...createSetupSlice(...a),
    ...createPlaygroundSlice(...a),
  }));
  return { store, archive, ...fake };
}

describe('classification runs in the studio state', () => {
  it('keeps accuracy, F1 and the confusion matrix per evaluation, live and in the history', async () => {
    const { store, archive, emit } = setUp();
    // id1 is the group; the runs are id2, id3.
    const [run] = await store.getState().startRuns([plan('LoRA r8', 'classification')]);
    const id = run as string;
    emit({ kind: 'progress', runId: id, progress: progress(1) });
    emit({ kind: 'eval', runId: id, step: 1, loss: 0.65, classification: scores });
    emit({
      kind: 'run-finished',
      runId: id,
      files: { 'adapter_model.safetensors': new Uint8Array(4) },
      stopped: false,
    });
    expect(store.getState().runs[id]?.evals).toEqual([
      { step: 1, loss: 0.65, elapsedMs: 10, classification: scores },
    ]);
    await vi.waitFor(async () => expect(await archive.list()).toHaveLength(1));
    const [kept] = await archive.list();
    expect(kept?.evals[0]?.classification).toEqual(scores);
    expect(kept?.settings.task).toBe('classification');
  });

  it('classifies with every ended classification run only, and generates with language models only', async () => {
    const { store, emit, classified, generated } = setUp();
    const [good, failed] = await store
      .getState()
      .startRuns([plan('Full fine-tuning', 'classification'), plan('LoRA r8', 'classification')]);
    const [lm] = await store.getState().startRuns([plan('LoRA r8')]);
    // The second start cleared nothing: all three are still active until they end.
    emit({
      kind: 'run-finished',
      runId: good as string,
      files: { 'model.safetensors': new Uint8Array(4) },
      stopped: false,
    });
    emit({ kind: 'error', runId: failed as string, name: 'ModelTooLargeError', message: 'too large' });
    emit({
      kind: 'run-finished',
      runId: lm as string,
      files: { 'adapter_model.safetensors': new Uint8Array(4) },
      stopped: false,
    });

    const s = store.getState();
    await s.classifyEverywhere();
    expect(store.getState().playground.classify.problem).toMatch(/Type a text/);
    s.setClassifyInput('text', ' The cat sat . ');
    s.setClassifyInput('pair', 'On the mat !');
    await store.getState().classifyEverywhere();
    expect(classified).toEqual([
      { target: { kind: 'run', runId: good }, text: 'The cat sat .', pair: 'On the mat !' },
    ]);
    const [column] = store.getState().playground.classify.columns;
    expect(column).toMatchObject({
      key: good,
      status: 'done',
      labels: ['0', '1'],
      elapsedMs: 7,
    });
    expect(column?.probabilities?.[1]).toBe(0.9);
    expect(column?.roundTripMs).toBeGreaterThanOrEqual(0);

    store.getState().setPlaygroundPrompt('Hello');
    await store.getState().generateEverywhere();
    expect(generated).toEqual([
      expect.objectContaining({ kind: 'base', modelName: builtinTinyLlama.modelName }),
      { kind: 'run', runId: lm },
    ]);
  });
});
