import 'fake-indexeddb/auto';
import { createStore as createIdbStore } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { PreferenceMetrics } from '../../train/objective';
import { defaultTrainConfig } from '../../train/train-config';
import type {
  ClassificationScores,
  EvaluationData,
  GenerateTarget,
  StepProgress,
} from '../../train/worker/protocol';
import type { RunSpec } from '../../train/worker/run-spec';
import type { Evaluated, RunEvent, StudioTrainer } from '../../train/worker/training-client';
import { type RunSpecStore, runSpecStore } from '../storage/run-spec-store';
import type { AdapterEntry } from './adapter-store';
import type { AdaptersSlice } from './adapters-slice';
import { exportedJobChoices, historyChoices } from './evaluable-history';
import { memoryEvaluationStore } from './evaluation-store';
import { createEvaluationsSlice, type EvaluationsSlice, evaluableRuns } from './evaluations-slice';
import { createHistorySlice, type HistorySlice } from './history-slice';
import { keepRunSpecWith, keptExportedJob } from './keep-run-spec';
import { memoryRunArchive, type RunArchive } from './run-archive';
import type { RunPlan } from './run-setup';
import { createRunsSlice, type RunsSlice } from './runs-slice';

/** A trainer whose `evaluate` records what it was asked and answers with a loss (and scores) the test picks. */
function fakeTrainer(loss: number, scores: Scores = {}) {
  let listener: (event: RunEvent) => void = () => {};
  const asked: { target: GenerateTarget; data: EvaluationData }[] = [];
  const unused = async (): Promise<never> => {
    throw new Error('not used');
  };
  const client: StudioTrainer = {
    probe: unused,
    startRun: async () => ({ totalSteps: 2, trainableParams: 10, totalParams: 100 }),
    stopRun: async () => {},
    releaseRun: async () => 0,
    pauseRun: async () => {},
    resumeRun: async () => {},
    generate: unused,
    classify: unused,
    evaluate: async (target, data) => {
      asked.push({ target, data });
      const examples = data.spec.validationTexts?.length ?? 0;
      return { runId: data.runId, loss, examples, ...scores };
    },
    onEvent: (l) => {
      listener = l;
      return () => {};
    },
    dispose: () => {},
  };
  return { client, asked, emit: (event: RunEvent) => listener(event) };
}

/** What the worker measures beside the loss: a classifier's scores, or a DPO split's rewards. */
type Scores = Pick<Evaluated, 'classification' | 'preference'>;

const modelFiles = { 'config.json': new Uint8Array([1, 2, 3]) };
const plan = (label: string, validationTexts: string[]): RunPlan => {
  const train = { ...defaultTrainConfig, steps: 2 };
  const method = { method: 'lora', r: 4, alpha: 8, dropout: 0 } as const;
  const spec: RunSpec = {
    modelFiles,
    modelName: 'tiny',
    method,
    train,
    trainTexts: ['a b c', 'd e f'],
    validationTexts,
  };
  const settings = {
    modelId: 'builtin-tiny',
    modelLabel: 'Tiny',
    method,
    train,
    trainExamples: 2,
    validationExamples: validationTexts.length,
    validationHeldOut: true,
  };
  return { label, settings, spec };
};

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

const adapter = (id: string, extra: Partial<AdapterEntry> = {}): AdapterEntry => ({
  id,
  name: `adapter ${id}`,
  peftType: 'LORA',
  method: 'lora',
  baseModel: 'tiny',
  createdAt: 1,
  files: { 'adapter_config.json': new Uint8Array([7]) },
  ...extra,
});

/** Pages of one browser: `kept` shares the run archive and the kept specs between them. */
function setUp(
  loss: number,
  evaluations = memoryEvaluationStore(),
  kept?: { archive: RunArchive; specs: RunSpecStore },
  scores: Scores = {},
) {
  const fake = fakeTrainer(loss, scores);
  let n = 0;
  const specs = kept?.specs;
  const store = createStore<RunsSlice & HistorySlice & EvaluationsSlice & Pick<AdaptersSlice, 'adapters'>>()(
    (...a) => ({
      ...createRunsSlice({
        trainer: () => fake.client,
        newId: () => `run${++n}`,
        now: () => 1000,
        ...(specs
          ? {
              keepSpec: keepRunSpecWith(
                () => specs,
                () => null,
                () => 1000,
              ),
            }
          : {}),
      })(...a),
      ...createHistorySlice(kept?.archive ?? memoryRunArchive())(...a),
      adapters: {
        status: 'ready',
        entries: [
          adapter('imported'),
          adapter('other-model', { modelId: 'builtin-other', baseModel: 'other' }),
        ],
        error: null,
      },
      ...createEvaluationsSlice({
        store: () => evaluations,
        newId: () => `eval${++n}`,
        now: () => 2000,
        ...(specs
          ? {
              runSpecs: () => specs,
              modelFiles: (id: string) => (id === 'builtin-tiny' ? modelFiles : undefined),
            }
          : {}),
      })(...a),
    }),
  );
  return { store, evaluations, ...fake };
}

describe('evaluations slice', () => {
  it('scores an adapter on an ended run’s split, beside the run’s own final loss, and keeps it', async () => {
    const { store, asked, emit, evaluations } = setUp(2.5);
    const [held, none] = await store.getState().startRuns([plan('LoRA', ['g h i']), plan('No split', [])]);
    const runId = held as string;
    // Still training: nothing to score against yet.
    expect(evaluableRuns(store.getState())).toEqual([]);
    await store.getState().evaluateAdapter('imported', runId);
    expect(store.getState().evaluations.error).toMatch(/^EvaluationSetupError: .*still training/);
    expect(asked).toHaveLength(0);

    for (const id of [runId, none as string]) {
      emit({ kind: 'progress', runId: id, progress: progress(1, 3.1) });
      emit({ kind: 'progress', runId: id, progress: progress(2, 2.9) });
      emit({ kind: 'eval', runId: id, step: 2, loss: 2.75 });
      emit({ kind: 'run-finished', runId: id, files: {}, stopped: false });
    }
    // The run without a validation split cannot be scored against.
    expect(evaluableRuns(store.getState()).map((r) => r.id)).toEqual([runId]);

    await store.getState().evaluateAdapter('imported', runId);
    expect(store.getState().evaluations.error).toBeNull();
    expect(store.getState().evaluations.pending).toEqual([]);
    // The worker got the adapter on the run's own model files, and the run's split as its spec had it.
    const { target, data } = asked[0] as (typeof asked)[number];
    expect(target).toMatchObject({ kind: 'adapter', modelName: 'tiny', adapterFiles: adapter('x').files });
    expect(target.kind === 'adapter' && target.modelFiles).toBe(modelFiles);
    expect(data).toMatchObject({
      runId,
      spec: { validationTexts: ['g h i'], trainTexts: ['a b c', 'd e f'] },
    });
    expect(data.spec.train.steps).toBe(2);

    const [entry] = store.getState().evaluations.entries;
    expect(entry).toMatchObject({
      adapterId: 'imported',
      imported: true,
      runId,
      runLabel: 'LoRA',
      runFinalStep: 2,
      runFinalValLoss: 2.75,
      loss: 2.5,
      examples: 1,
    });
    expect(await evaluations.all()).toEqual([entry]);

    // A new page reads the kept evaluation back.
    const again = setUp(0, evaluations);
    await again.store.getState().loadEvaluations();
    expect(again.store.getState().evaluations.entries).toEqual([entry]);

    // An adapter trained on another model is refused before the worker is asked.
    await store.getState().evaluateAdapter('other-model', runId);
    expect(store.getState().evaluations.error).toMatch(/^EvaluationSetupError: .*trained on other/);
    expect(asked).toHaveLength(1);

    await store.getState().forgetEvaluation(entry?.id as string);
    expect(store.getState().evaluations.entries).toEqual([]);
    expect(await evaluations.all()).toEqual([]);
  });

  it('keeps a classifier adapter’s accuracy and F1 beside the run’s own last scores', async () => {
    const scores = (accuracy: number, f1: number): ClassificationScores => ({
      accuracy,
      f1,
      f1Kind: 'binary',
      confusion: [
        [1, 0],
        [0, 1],
      ],
      labels: ['0', '1'],
      count: 2,
    });
    const { store, emit } = setUp(0.4, memoryEvaluationStore(), undefined, {
      classification: scores(0.75, 0.8),
    });
    const [runId] = await store.getState().startRuns([plan('LoRA', ['g h i'])]);
    const id = runId as string;
    emit({ kind: 'progress', runId: id, progress: progress(2, 0.6) });
    emit({ kind: 'eval', runId: id, step: 1, loss: 0.7, classification: scores(0.5, 0.4) });
    emit({ kind: 'eval', runId: id, step: 2, loss: 0.5, classification: scores(1, 1) });
    emit({ kind: 'run-finished', runId: id, files: {}, stopped: false });
    await store.getState().evaluateAdapter('imported', id);
    expect(store.getState().evaluations.entries[0]).toMatchObject({
      loss: 0.4,
      classification: { accuracy: 0.75, f1: 0.8 },
      runFinalValLoss: 0.5,
      runFinalClassification: { accuracy: 1, f1: 1 },
    });
  });

  it('scores an adapter on a DPO run’s pairs, with its rewards beside the run’s last ones, in this session and after a reload', async () => {
    const rewards = (rewardAccuracy: number, rewardMargin: number): PreferenceMetrics => ({
      chosenReward: rewardMargin / 2,
      rejectedReward: -rewardMargin / 2,
      rewardAccuracy,
      rewardMargin,
      chosenLogp: -3,
      rejectedLogp: -4,
    });
    const dpoPlan = (): RunPlan => {
      const given = plan('DPO', ['g h i', 'j k']);
      const train = { ...given.settings.train, preference: { beta: 0.1 } };
      return { ...given, settings: { ...given.settings, train }, spec: { ...given.spec, train } };
    };
    const kept = {
      archive: memoryRunArchive(),
      specs: runSpecStore(createIdbStore(`eval-dpo-${Math.random()}`, 'specs')),
    };
    const { store, emit, asked } = setUp(0.55, memoryEvaluationStore(), kept, {
      preference: rewards(1, 0.4),
    });
    const [runId] = await store.getState().startRuns([dpoPlan()]);
    const id = runId as string;
    emit({ kind: 'progress', runId: id, progress: { ...progress(2, 0.6), preference: rewards(0.5, 0.1) } });
    emit({ kind: 'eval', runId: id, step: 2, loss: 0.65, preference: rewards(0.5, 0.2) });
    emit({ kind: 'run-finished', runId: id, files: {}, stopped: false });
    // An ended DPO run with held-out pairs is offered like any other.
    expect(evaluableRuns(store.getState()).map((r) => r.id)).toEqual([id]);

    await store.getState().evaluateAdapter('imported', id);
    expect(store.getState().evaluations.error).toBeNull();
    // The worker gets the run's spec with its β, so it scores the pairs as DPO.
    expect(asked[0]?.data.spec.train.preference).toEqual({ beta: 0.1 });
    expect(store.getState().evaluations.entries[0]).toMatchObject({
      runId: id,
      loss: 0.55,
      preference: { rewardAccuracy: 1, rewardMargin: 0.4 },
      runFinalValLoss: 0.65,
      runFinalPreference: { rewardAccuracy: 0.5, rewardMargin: 0.2 },
    });

    // A reload: the DPO run is in the history and its kept spec is offered.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const page = setUp(0, memoryEvaluationStore(), kept);
    await page.store.getState().loadHistory();
    await page.store.getState().loadEvaluations();
    const state = page.store.getState();
    const here = {
      kept: state.evaluations.kept,
      pastRuns: state.history.runs,
      liveRuns: state.runs,
      datasetIds: new Set<string>(),
    };
    expect(historyChoices(here, () => true)).toMatchObject([{ run: { id }, availability: { ok: true } }]);
  });

  it('scores an adapter on a run of an earlier session from its kept spec', async () => {
    const kept = {
      archive: memoryRunArchive(),
      specs: runSpecStore(createIdbStore(`eval-specs-${Math.random()}`, 'specs')),
    };
    const first = setUp(2.5, memoryEvaluationStore(), kept);
    const [runId] = await first.store.getState().startRuns([plan('LoRA', ['g h i', 'j k'])]);
    first.emit({ kind: 'progress', runId: runId as string, progress: progress(2, 2.9) });
    first.emit({ kind: 'eval', runId: runId as string, step: 2, loss: 2.75 });
    first.emit({ kind: 'run-finished', runId: runId as string, files: {}, stopped: false });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await kept.specs.list()).map((k) => k.runId)).toEqual([runId]);

    // A reload: no session runs, the run is in the history, its spec in the store.
    const page = setUp(1.75, memoryEvaluationStore(), kept);
    await page.store.getState().loadHistory();
    await page.store.getState().loadEvaluations();
    const state = page.store.getState();
    expect(evaluableRuns(state)).toEqual([]);
    const here = {
      kept: state.evaluations.kept,
      pastRuns: state.history.runs,
      liveRuns: state.runs,
      datasetIds: new Set<string>(),
    };
    expect(historyChoices(here, (id) => id === 'builtin-tiny')).toMatchObject([
      { run: { id: runId }, availability: { ok: true } },
    ]);
    const missing = historyChoices(here, () => false)[0]?.availability;
    expect(missing && !missing.ok ? missing.reason : '').toMatch(/not in this browser's cache/);

    await page.store.getState().evaluateAdapter('imported', runId as string);
    expect(page.store.getState().evaluations.error).toBeNull();
    const { target, data } = page.asked[0] as (typeof page.asked)[number];
    expect(target.kind === 'adapter' && target.modelFiles).toBe(modelFiles);
    expect(data.spec).toMatchObject({ validationTexts: ['g h i', 'j k'], trainTexts: ['a b c', 'd e f'] });
    expect(page.store.getState().evaluations.entries[0]).toMatchObject({
      runId,
      runLabel: 'LoRA',
      runFinalValLoss: 2.75,
      loss: 1.75,
      examples: 2,
    });
  });

  it('scores an adapter on an exported job’s split after a reload, with no run loss of its own', async () => {
    const specs = runSpecStore(createIdbStore(`eval-jobs-${Math.random()}`, 'specs'));
    const kept = { archive: memoryRunArchive(), specs };
    const first = setUp(2.5, memoryEvaluationStore(), kept);
    // Too few rows to hold any out: nothing to score on later, so nothing is kept.
    expect(
      keptExportedJob(
        { ...plan('LoRA', []), settings: { ...plan('LoRA', []).settings, validationHeldOut: false } },
        { id: 'job-0', fileName: 'j.zip', datasetId: null, savedAt: 1 },
      ),
    ).toBeNull();
    const job = keptExportedJob(plan('LoRA', ['g h i', 'j k']), {
      id: 'job-1',
      fileName: 'whetstone-job-lora.zip',
      datasetId: null,
      savedAt: 5,
    });
    if (!job) throw new Error('the job was not kept');
    await first.store.getState().keepExportedJob(job);
    expect(first.store.getState().evaluations.kept.map((k) => k.runId)).toEqual(['job-1']);

    const page = setUp(1.5, memoryEvaluationStore(), kept);
    await page.store.getState().loadEvaluations();
    const state = page.store.getState();
    expect(
      exportedJobChoices(state.evaluations.kept, new Set(), (id) => id === 'builtin-tiny'),
    ).toMatchObject([{ job: { runId: 'job-1', validationExamples: 2 }, availability: { ok: true } }]);
    await page.store.getState().evaluateAdapter('imported', 'job-1');
    expect(page.store.getState().evaluations.error).toBeNull();
    expect(page.asked[0]?.data.spec).toMatchObject({ validationTexts: ['g h i', 'j k'] });
    const entry = page.store.getState().evaluations.entries[0];
    expect(entry).toMatchObject({
      runId: 'job-1',
      runLabel: 'exported job whetstone-job-lora.zip',
      loss: 1.5,
    });
    expect(entry?.runFinalValLoss).toBeUndefined();
  });
});
