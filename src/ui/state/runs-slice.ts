/**
 * The runs slice: the runs of this session, live. It starts runs through the `StudioTrainer` (the worker
 * in the app, a fake in tests), folds the worker's events into the runs' records, keeps the files a run
 * produced for download, and hands every run that ends to the history slice to be kept.
 * The client is made on the first start, so opening the page costs no worker and no GPU device.
 * Checkpoints also go to IndexedDB (the checkpoint store) with the run's spec, and the run's record goes
 * to the history as 'interrupted' at that step, so a closed tab leaves a run that `resumeStoredRun` can
 * start again from its checkpoint after a reload. Runs that leave the live comparison (removed, or a new
 * comparison started) give their GPU memory back (`release-run`); kept adapters open again from the
 * adapter library in the playground.
 */
import type { StateCreator } from 'zustand';
import type { CheckpointState } from '../../train/checkpoint-state';
import type { RunSpec } from '../../train/worker/run-spec';
import type { RunEvent, StudioTrainer } from '../../train/worker/training-client';
import type { CheckpointStore } from '../storage/checkpoint-store';
import type { AdaptersSlice } from './adapters-slice';
import type { HistorySlice } from './history-slice';
import type { KeepRunSpec } from './keep-run-spec';
import { applyEvent, isActive, type RunError, type RunRecord } from './run-record';
import type { RunPlan } from './run-setup';

/** One colour per run, distinct in light and dark themes and for common colour-vision deficiencies. */
export const runColors = [
  '#3a6ea5',
  '#e07b39',
  '#2f9e6e',
  '#b04fa6',
  '#c9a227',
  '#5b8bd9',
  '#d1495b',
  '#6a6a6a',
];

export interface RunsDeps {
  trainer(): StudioTrainer;
  newId(): string;
  now(): number;
  /** Where checkpoints outlive the tab; without it (tests) they stay in memory only. */
  checkpoints?: CheckpointStore;
  /** A studio model's files by id (the built-in model, or a hub model loaded from the browser cache). */
  modelFiles?(modelId: string): Record<string, Uint8Array> | undefined;
  /** Keeps each run's spec past its end (issue 9: evaluate imported adapters on its split later). */
  keepSpec?: KeepRunSpec;
}

export class ResumeError extends Error {
  override readonly name = 'ResumeError';
}

export interface RunsSlice {
  runs: Record<string, RunRecord>;
  /** Run ids in the order they were started. */
  runOrder: string[];
  /** The files each ended run produced, by run id (kept in memory for download, not persisted). */
  runFiles: Record<string, Record<string, Uint8Array>>;
  /** The latest checkpoint of each run that sent one (in memory), to resume after a lost device. */
  checkpoints: Record<string, CheckpointState>;
  /** Runs whose stop was asked for and that have not ended yet. */
  stopping: Record<string, true>;
  /** Why a run's checkpoint could not be kept in browser storage (a full quota), by run id. */
  checkpointProblems: Record<string, string>;
  /** Starts a run kept in the history as interrupted (a closed tab) again from its stored checkpoint. */
  resumeStoredRun(id: string): Promise<void>;
  /** Gives an ended run's GPU memory back; resolves to the bytes freed (0 without a worker). */
  releaseRun(id: string): Promise<number>;
  startRuns(plans: RunPlan[]): Promise<string[]>;
  stopRun(id: string): Promise<void>;
  pauseRun(id: string): Promise<void>;
  /** Starts an interrupted run again from its last checkpoint (or from the start without one). */
  resumeInterrupted(id: string): Promise<void>;
  resumeRun(id: string): Promise<void>;
  /** The engine the runs live in (made on first use), for the playground. */
  studioTrainer(): StudioTrainer;
  /** What a run of this session was started with (its validation split can be rebuilt from it). */
  runSpec(id: string): RunSpec | undefined;
  /** Takes ended runs off the live comparison; they stay in the history. */
  clearEndedRuns(): void;
}

const errorOf = (error: unknown): RunError =>
  error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };

/** The adapters slice is optional: without it (in tests) adapters are simply not kept. */
type Store = RunsSlice & HistorySlice & Partial<Pick<AdaptersSlice, 'keepRunAdapter'>>;

export function createRunsSlice(deps: RunsDeps): StateCreator<Store, [], [], RunsSlice> {
  return (set, get) => {
    let client: StudioTrainer | undefined;
    /** What each run of this session was started with, to start it again after a lost device. */
    const specs = new Map<string, RunSpec>();

    /** Each run's checkpoint writes, in order, so the last word on disk is always the newest. */
    const writes = new Map<string, Promise<void>>();
    const afterWrites = (id: string, work: () => Promise<void>) => {
      const pending = writes.get(id);
      const next = pending ? pending.then(work, work) : work();
      writes.set(
        id,
        next.catch(() => undefined),
      );
    };

    /** Records that just ended go to the history (and to IndexedDB) once. */
    const keepEnded = (before: Record<string, RunRecord>, after: Record<string, RunRecord>) => {
      for (const [id, record] of Object.entries(after)) {
        const was = before[id];
        if (was && isActive(was.status) && !isActive(record.status)) {
          // After any checkpoint write still under way, so the final record is the one kept.
          afterWrites(id, async () => {
            await get().rememberRun(record);
            // A lost device keeps its checkpoint to resume from; any other end has no use for it.
            if (record.status !== 'interrupted') await deps.checkpoints?.remove(id);
          });
          const files = get().runFiles[id];
          if (files) void get().keepRunAdapter?.(record, files);
        }
      }
    };

    /** The checkpoint to IndexedDB, then the record as it stands at that step, as 'interrupted'. */
    const persistCheckpoint = (id: string, step: number, checkpoint: CheckpointState) => {
      const store = deps.checkpoints;
      const spec = specs.get(id);
      const record = get().runs[id];
      if (!store || !spec || !record) return;
      const { modelFiles: _files, resumeFrom: _from, ...kept } = spec;
      const history = record.history.filter((p) => p.step <= step);
      const atCheckpoint: RunRecord = {
        ...record,
        status: 'interrupted',
        checkpointStep: step,
        history,
        evals: record.evals.filter((e) => e.step <= step),
        error: {
          name: 'TabClosedError',
          message: `The tab closed while this run was training; it can go on from its checkpoint at step ${step}.`,
        },
      };
      afterWrites(id, async () => {
        if (!isActive(get().runs[id]?.status ?? 'finished')) return;
        try {
          await store.save({
            runId: id,
            step,
            modelId: record.settings.modelId,
            spec: { ...kept, elapsedMsBefore: history[history.length - 1]?.elapsedMs ?? 0 },
            checkpoint,
            savedAt: deps.now(),
          });
        } catch (error) {
          // The previous checkpoint (if any) is still whole on disk; say why this one is not.
          set((s) => ({ checkpointProblems: { ...s.checkpointProblems, [id]: errorOf(error).message } }));
          return;
        }
        set((s) => {
          const { [id]: _gone, ...rest } = s.checkpointProblems;
          return { checkpointProblems: rest };
        });
        if (isActive(get().runs[id]?.status ?? 'finished')) await get().keepInterruptible(atCheckpoint);
      });
    };

    const update = (change: (runs: Record<string, RunRecord>) => Record<string, RunRecord>) => {
      const before = get().runs;
      const after = change(before);
      if (after === before) return;
      set({ runs: after });
      keepEnded(before, after);
    };

    const onEvent = (event: RunEvent) => {
      if (event.kind === 'checkpoint') {
        set((s) => ({ checkpoints: { ...s.checkpoints, [event.runId]: event.checkpoint } }));
      }
      if (event.kind === 'run-finished') {
        set((s) => ({ runFiles: { ...s.runFiles, [event.runId]: event.files } }));
      }
      if (event.kind === 'checkpoint') persistCheckpoint(event.runId, event.step, event.checkpoint);
      update((runs) => {
        // An error without a run (a lost device, a worker that failed to load) ends every active run.
        const ids = 'runId' in event && event.runId !== undefined ? [event.runId] : Object.keys(runs);
        let next = runs;
        for (const id of ids) {
          const record = next[id];
          if (!record) continue;
          const changed = applyEvent(record, event);
          if (changed !== record) next = { ...next, [id]: changed };
        }
        return next;
      });
      if (event.kind === 'run-finished' || event.kind === 'error') {
        set((s) => {
          const stopping = { ...s.stopping };
          for (const id of Object.keys(stopping))
            if (!isActive(s.runs[id]?.status ?? 'finished')) delete stopping[id];
          return { stopping };
        });
      }
    };

    const connect = () => {
      if (!client) {
        client = deps.trainer();
        client.onEvent(onEvent);
      }
      return client;
    };

    const fail = (id: string, error: RunError) =>
      update((runs) => {
        const record = runs[id];
        if (!record || !isActive(record.status)) return runs;
        return { ...runs, [id]: { ...record, status: 'failed', error } };
      });

    return {
      runs: {},
      runOrder: [],
      runFiles: {},
      checkpoints: {},
      stopping: {},
      checkpointProblems: {},

      startRuns: async (plans) => {
        // A new comparison: the ended runs of the last one leave it (they stay in the history) and give
        // their GPU memory back to the runs about to start.
        get().clearEndedRuns();
        const groupId = deps.newId();
        const records = plans.map(
          (plan, i): RunRecord => ({
            id: deps.newId(),
            groupId,
            groupIndex: i,
            label: plan.label,
            color: runColors[(get().runOrder.length + i) % runColors.length] as string,
            createdAt: deps.now(),
            settings: plan.settings,
            status: 'starting',
            totalSteps: plan.settings.train.steps ?? 0,
            trainableParams: 0,
            totalParams: 0,
            history: [],
            evals: [],
            error: null,
            outputs: [],
          }),
        );
        set((s) => ({
          runs: { ...s.runs, ...Object.fromEntries(records.map((r) => [r.id, r])) },
          runOrder: [...s.runOrder, ...records.map((r) => r.id)],
        }));
        let trainer: StudioTrainer;
        try {
          trainer = connect();
        } catch (error) {
          for (const record of records) fail(record.id, errorOf(error));
          return records.map((r) => r.id);
        }
        await Promise.all(
          records.map(async (record, i) => {
            try {
              specs.set(record.id, (plans[i] as RunPlan).spec);
              // Best effort: a spec that cannot be kept only loses later evaluation on this run.
              deps.keepSpec?.(record, (plans[i] as RunPlan).spec).catch(() => undefined);
              const started = await trainer.startRun(record.id, (plans[i] as RunPlan).spec);
              update((runs) => {
                const now = runs[record.id];
                if (!now || !isActive(now.status)) return runs;
                return {
                  ...runs,
                  [record.id]: { ...now, status: 'running', ...started },
                };
              });
            } catch (error) {
              fail(record.id, errorOf(error));
            }
          }),
        );
        return records.map((r) => r.id);
      },

      stopRun: async (id) => {
        if (!client || !isActive(get().runs[id]?.status ?? 'finished')) return;
        set((s) => ({ stopping: { ...s.stopping, [id]: true } }));
        try {
          await client.stopRun(id);
        } catch (error) {
          fail(id, errorOf(error));
        }
      },

      pauseRun: async (id) => {
        if (!client || get().runs[id]?.status !== 'running') return;
        try {
          await client.pauseRun(id);
          update((runs) => {
            const record = runs[id];
            return record?.status === 'running' ? { ...runs, [id]: { ...record, status: 'paused' } } : runs;
          });
        } catch (error) {
          fail(id, errorOf(error));
        }
      },

      resumeRun: async (id) => {
        if (!client || get().runs[id]?.status !== 'paused') return;
        try {
          await client.resumeRun(id);
          update((runs) => {
            const record = runs[id];
            return record?.status === 'paused' ? { ...runs, [id]: { ...record, status: 'running' } } : runs;
          });
        } catch (error) {
          fail(id, errorOf(error));
        }
      },

      resumeInterrupted: async (id) => {
        const record = get().runs[id];
        const spec = specs.get(id);
        if (record?.status !== 'interrupted' || !spec) return;
        const checkpoint = get().checkpoints[id];
        const from = checkpoint ? (record.checkpointStep ?? 0) : 0;
        // The time axis goes on from the checkpoint's step instead of starting again at 0.
        const elapsedMsBefore = record.history.filter((p) => p.step <= from).at(-1)?.elapsedMs ?? 0;
        // The curves keep what the checkpoint holds; the steps after it are trained again.
        update((runs) => ({
          ...runs,
          [id]: {
            ...record,
            status: 'starting',
            error: null,
            history: record.history.filter((p) => p.step <= from),
            evals: record.evals.filter((e) => e.step <= from),
          },
        }));
        try {
          const started = await connect().startRun(
            id,
            checkpoint ? { ...spec, resumeFrom: checkpoint, elapsedMsBefore } : spec,
          );
          update((runs) => {
            const now = runs[id];
            return now && isActive(now.status)
              ? { ...runs, [id]: { ...now, status: 'running', ...started } }
              : runs;
          });
        } catch (error) {
          fail(id, errorOf(error));
        }
      },

      resumeStoredRun: async (id) => {
        const record = get().history.runs.find((r) => r.id === id);
        if (record?.status !== 'interrupted' || isActive(get().runs[id]?.status ?? 'finished')) return;
        const fail = (message: string) =>
          set((s) => ({ checkpointProblems: { ...s.checkpointProblems, [id]: message } }));
        let stored: Awaited<ReturnType<CheckpointStore['load']>>;
        try {
          stored = await deps.checkpoints?.load(id);
        } catch (error) {
          return fail(errorOf(error).message);
        }
        if (!stored)
          return fail(new ResumeError(`Run ${record.label} has no checkpoint kept in this browser.`).message);
        const modelFiles = deps.modelFiles?.(stored.modelId);
        if (!modelFiles)
          return fail(
            new ResumeError(
              `Load ${record.settings.modelLabel} again in the model picker (it comes from the browser's model cache), then resume.`,
            ).message,
          );
        specs.set(id, { ...stored.spec, modelFiles });
        set((s) => {
          const { [id]: _gone, ...problems } = s.checkpointProblems;
          return {
            checkpointProblems: problems,
            checkpoints: { ...s.checkpoints, [id]: stored.checkpoint },
            runs: { ...s.runs, [id]: { ...record, checkpointStep: stored.step } },
            runOrder: s.runOrder.includes(id) ? s.runOrder : [...s.runOrder, id],
          };
        });
        await get().resumeInterrupted(id);
      },

      releaseRun: async (id) => {
        if (!client || isActive(get().runs[id]?.status ?? 'finished')) return 0;
        try {
          return await client.releaseRun(id);
        } catch {
          // A worker that never had the run, or is gone, holds nothing of it.
          return 0;
        }
      },

      studioTrainer: connect,

      runSpec: (id) => specs.get(id),

      clearEndedRuns: () => {
        const s = get();
        const kept = s.runOrder.filter((id) => isActive(s.runs[id]?.status ?? 'finished'));
        const leaving = s.runOrder.filter((id) => !kept.includes(id));
        for (const id of leaving) void get().releaseRun(id);
        set({
          runOrder: kept,
          runs: Object.fromEntries(kept.map((id) => [id, s.runs[id] as RunRecord])),
          runFiles: Object.fromEntries(Object.entries(s.runFiles).filter(([id]) => kept.includes(id))),
          checkpoints: Object.fromEntries(Object.entries(s.checkpoints).filter(([id]) => kept.includes(id))),
        });
      },
    };
  };
}
