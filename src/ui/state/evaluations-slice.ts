/**
 * The evaluations slice: kept adapters (trained here or imported from a TRL + PEFT job) scored on a run's
 * validation split, so the compare view can set an imported adapter's loss beside the run's own. The
 * split is rebuilt in the worker from the run's spec (the runs slice keeps the spec of every run of this
 * session), the adapter is opened on that run's base model, and the worker measures the loss with the
 * Trainer's own evaluation; on a DPO run's split, the DPO loss and rewards over its validation pairs with
 * the base model as the reference. Each result is kept with the run's final numbers as they were, and
 * persisted.
 * Runs of earlier sessions and exported "Run at scale…" jobs are rebuilt from their kept specs
 * (storage/run-spec-store.ts); a job has no run of its own, so its rows show no run loss.
 */
import type { StateCreator } from 'zustand';
import type { PreferenceMetrics } from '../../train/objective';
import type { ClassificationScores, EvaluationData } from '../../train/worker/protocol';
import type { RunSpec } from '../../train/worker/run-spec';
import { type KeptRunSpec, type RunSpecStore, restoreSpec } from '../storage/run-spec-store';
import type { AdaptersSlice } from './adapters-slice';
import type { AdapterEvaluation, EvaluationStore } from './evaluation-store';
import type { HistorySlice } from './history-slice';
import { isActive, lastProgress, type RunRecord } from './run-record';
import { type RunsSlice, runColors } from './runs-slice';

export class EvaluationSetupError extends Error {
  override readonly name = 'EvaluationSetupError';
}

export interface EvaluationsState {
  status: 'loading' | 'ready' | 'unavailable';
  /** Newest first. */
  entries: AdapterEvaluation[];
  /** `${adapterId}|${runId}` of the evaluations under way. */
  pending: string[];
  error: string | null;
  /** Specs of runs kept past their session (read once per page), so history runs can be scored on. */
  kept: KeptRunSpec[];
}

export interface EvaluationsSlice {
  evaluations: EvaluationsState;
  loadEvaluations(): Promise<void>;
  /** Scores a kept adapter on an ended run's validation split; the result joins `entries`. */
  evaluateAdapter(adapterId: string, runId: string): Promise<void>;
  forgetEvaluation(id: string): Promise<void>;
  /** Keeps an exported job's spec, so an adapter coming back from it can be scored on its split. */
  keepExportedJob(entry: KeptRunSpec): Promise<void>;
}

export interface EvaluationsDeps {
  store(): EvaluationStore;
  newId(): string;
  now(): number;
  /** Where run specs outlive the session; absent (tests): only this session's runs can be scored on. */
  runSpecs?(): RunSpecStore;
  /** A studio model's files, or undefined when they are not in this browser. */
  modelFiles?(modelId: string): Record<string, Uint8Array> | undefined;
  /** A dataset-library file's bytes, or undefined when it was deleted. */
  datasetFile?(datasetId: string): Promise<Blob | undefined>;
}

type Store = EvaluationsSlice &
  Pick<RunsSlice, 'runs' | 'runOrder' | 'runSpec' | 'studioTrainer'> &
  Pick<AdaptersSlice, 'adapters'> &
  Pick<HistorySlice, 'history'>;

export const pendingKey = (adapterId: string, runId: string) => `${adapterId}|${runId}`;

/** What an evaluation is scored against: an ended run (this session's or the history's) or an exported job. */
interface EvaluationTarget {
  label: string;
  color: string;
  modelId: string;
  modelLabel: string;
  active: boolean;
  finalStep: number;
  finalValLoss?: number;
  finalClassification?: ClassificationScores;
  finalPreference?: PreferenceMetrics;
}

function runTarget(run: RunRecord): EvaluationTarget {
  const lastEval = run.evals[run.evals.length - 1];
  return {
    label: run.label,
    color: run.color,
    modelId: run.settings.modelId,
    modelLabel: run.settings.modelLabel,
    active: isActive(run.status),
    finalStep: lastProgress(run)?.step ?? run.totalSteps,
    ...(lastEval ? { finalValLoss: lastEval.loss } : {}),
    ...(lastEval?.classification ? { finalClassification: lastEval.classification } : {}),
    ...(lastEval?.preference ? { finalPreference: lastEval.preference } : {}),
  };
}

/** A job trained elsewhere: its planned last step, and no loss of its own measured here. */
function jobTarget(job: KeptRunSpec): EvaluationTarget {
  return {
    label: job.label,
    color: runColors[runColors.length - 1] as string,
    modelId: job.modelId,
    modelLabel: job.modelId,
    active: false,
    finalStep: job.spec.train.steps ?? 0,
  };
}

/**
 * The runs an adapter can be scored against: ended runs of this session whose spec is known (so the
 * split can be rebuilt) and that held rows (or a DPO run's pairs) out for validation.
 */
export function evaluableRuns(state: Pick<RunsSlice, 'runs' | 'runOrder' | 'runSpec'>): RunRecord[] {
  return state.runOrder
    .map((id) => state.runs[id])
    .filter(
      (run): run is RunRecord =>
        run !== undefined &&
        !isActive(run.status) &&
        run.settings.validationExamples > 0 &&
        state.runSpec(run.id) !== undefined,
    );
}

const newestFirst = (entries: AdapterEvaluation[]) => [...entries].sort((a, b) => b.createdAt - a.createdAt);
const errorText = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

export function createEvaluationsSlice(deps: EvaluationsDeps): StateCreator<Store, [], [], EvaluationsSlice> {
  return (set, get) => {
    let store: EvaluationStore | undefined;
    const open = () => {
      store ??= deps.store();
      return store;
    };
    let loading: Promise<void> | undefined;
    const settle = (key: string) =>
      set((s) => ({
        evaluations: { ...s.evaluations, pending: s.evaluations.pending.filter((p) => p !== key) },
      }));

    /** A history run's spec, rebuilt from the kept spec, the model's files and the library file. */
    const keptSpec = async (runId: string): Promise<RunSpec | undefined> => {
      const kept = get().evaluations.kept.find((k) => k.runId === runId);
      if (!kept) return undefined;
      const modelFiles = deps.modelFiles?.(kept.modelId);
      if (!modelFiles)
        throw new EvaluationSetupError(
          `Run "${kept.label}" trained ${kept.modelId}, which is not in this browser's cache; load it in the model picker, then evaluate again.`,
        );
      const file = kept.spec.data?.file;
      const blob = file ? await deps.datasetFile?.(file.datasetId) : undefined;
      if (file && !blob)
        throw new EvaluationSetupError(
          `Run "${kept.label}" trained on ${file.fileName}, which was deleted from the dataset library; its split cannot be rebuilt.`,
        );
      return restoreSpec(kept, modelFiles, blob);
    };

    return {
      evaluations: { status: 'loading', entries: [], pending: [], error: null, kept: [] },

      loadEvaluations: () => {
        // Once per page: a second mount (React's StrictMode) finds the first read.
        loading ??= (async () => {
          try {
            // Kept specs first and apart: without them only this session's runs are offered.
            const kept = (await deps.runSpecs?.().list()) ?? [];
            set((s) => ({ evaluations: { ...s.evaluations, kept } }));
          } catch {
            // IndexedDB refused: the picker offers this session's runs, as without a store.
          }
          try {
            const kept = await open().all();
            set((s) => ({
              evaluations: {
                ...s.evaluations,
                status: 'ready',
                // Evaluations made before the read finished stay.
                entries: newestFirst([
                  ...s.evaluations.entries,
                  ...kept.filter((k) => !s.evaluations.entries.some((e) => e.id === k.id)),
                ]),
              },
            }));
          } catch (error) {
            set((s) => ({
              evaluations: {
                ...s.evaluations,
                status: 'unavailable',
                error: `Evaluations cannot be kept in this browser (IndexedDB: ${error instanceof Error ? error.message : String(error)}).`,
              },
            }));
          }
        })();
        return loading;
      },

      evaluateAdapter: async (adapterId, runId) => {
        const key = pendingKey(adapterId, runId);
        if (get().evaluations.pending.includes(key)) return;
        set((s) => ({
          evaluations: { ...s.evaluations, pending: [...s.evaluations.pending, key], error: null },
        }));
        try {
          const state = get();
          const entry = state.adapters.entries.find((e) => e.id === adapterId);
          if (!entry) throw new EvaluationSetupError('That adapter is no longer in the library.');
          const run = state.runs[runId] ?? state.history.runs.find((r) => r.id === runId);
          const job = state.evaluations.kept.find((k) => k.runId === runId && k.kind === 'exported-job');
          const target = run ? runTarget(run) : job ? jobTarget(job) : undefined;
          const spec = state.runSpec(runId) ?? (await keptSpec(runId));
          if (!target || !spec)
            throw new EvaluationSetupError(
              'That run is not in this session and its spec was not kept, so its validation split cannot be rebuilt; train it again (or choose another run).',
            );
          if (target.active)
            throw new EvaluationSetupError(
              `Run "${target.label}" is still training; score against it once it ends.`,
            );
          if (entry.modelId !== undefined && entry.modelId !== target.modelId)
            throw new EvaluationSetupError(
              `"${entry.name}" was trained on ${entry.baseModel ?? entry.modelId}, but "${target.label}" trains ${target.modelLabel}; an adapter is scored on the base model it was trained for.`,
            );
          const data: EvaluationData = {
            runId,
            spec: {
              modelName: spec.modelName,
              train: spec.train,
              ...(spec.data ? { data: spec.data } : {}),
              ...(spec.trainTexts ? { trainTexts: spec.trainTexts } : {}),
              ...(spec.validationTexts ? { validationTexts: spec.validationTexts } : {}),
              ...(spec.task ? { task: spec.task } : {}),
            },
          };
          const result = await state.studioTrainer().evaluate(
            {
              kind: 'adapter',
              key: `adapter:${entry.id}`,
              modelName: spec.modelName,
              modelFiles: spec.modelFiles,
              adapterFiles: entry.files,
            },
            data,
          );
          const evaluation: AdapterEvaluation = {
            id: deps.newId(),
            adapterId,
            adapterName: entry.name,
            imported: entry.runId === undefined,
            runId,
            runLabel: target.label,
            runColor: target.color,
            runFinalStep: target.finalStep,
            ...(target.finalValLoss === undefined ? {} : { runFinalValLoss: target.finalValLoss }),
            loss: result.loss,
            examples: result.examples,
            ...(result.classification ? { classification: result.classification } : {}),
            ...(target.finalClassification ? { runFinalClassification: target.finalClassification } : {}),
            ...(result.preference ? { preference: result.preference } : {}),
            ...(target.finalPreference ? { runFinalPreference: target.finalPreference } : {}),
            createdAt: deps.now(),
          };
          set((s) => ({
            evaluations: { ...s.evaluations, entries: newestFirst([evaluation, ...s.evaluations.entries]) },
          }));
          try {
            await open().put(evaluation);
          } catch (error) {
            set((s) => ({
              evaluations: {
                ...s.evaluations,
                error: `The evaluation is shown but not kept: ${errorText(error)}`,
              },
            }));
          }
        } catch (error) {
          set((s) => ({ evaluations: { ...s.evaluations, error: errorText(error) } }));
        } finally {
          settle(key);
        }
      },

      keepExportedJob: async (entry) => {
        set((s) => ({
          evaluations: {
            ...s.evaluations,
            kept: [...s.evaluations.kept.filter((k) => k.runId !== entry.runId), entry],
          },
        }));
        try {
          await deps.runSpecs?.().save(entry);
        } catch (error) {
          set((s) => ({
            evaluations: {
              ...s.evaluations,
              error: `The exported job can be scored on in this session only: ${errorText(error)}`,
            },
          }));
        }
      },

      forgetEvaluation: async (id) => {
        set((s) => ({
          evaluations: { ...s.evaluations, entries: s.evaluations.entries.filter((e) => e.id !== id) },
        }));
        try {
          await open().remove(id);
        } catch (error) {
          set((s) => ({ evaluations: { ...s.evaluations, error: errorText(error) } }));
        }
      },
    };
  };
}
