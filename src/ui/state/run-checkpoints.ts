/**
 * Run checkpoints and resuming, folded into the runs slice. Each checkpoint a run sends is kept in memory
 * (to resume after a lost device) and, with the run's spec, in IndexedDB (the checkpoint store); the
 * run's record then goes to the history as 'interrupted' at that step, so a closed tab leaves a run that
 * `resumeStoredRun` can start again from its checkpoint after a reload. `resumeInterrupted` starts an
 * interrupted run of this session again from its last checkpoint.
 * Contract: the runs slice owns the runs, their specs and the worker client, and lends them through
 * `RunCheckpointsHost`. Every write of one run (its checkpoints, then its final record) goes in order, so
 * the last word on disk is always the newest; a run that ends other than interrupted drops its checkpoint.
 */
import type { CheckpointState } from '../../train/checkpoint-state';
import type { RunSpec } from '../../train/worker/run-spec';
import type { StudioTrainer } from '../../train/worker/training-client';
import type { CheckpointStore } from '../storage/checkpoint-store';
import type { HistorySlice } from './history-slice';
import { isActive, type RunError, type RunRecord, runErrorOf } from './run-record';

export class ResumeError extends Error {
  override readonly name = 'ResumeError';
}

export interface RunCheckpointsDeps {
  now(): number;
  /** Where checkpoints outlive the tab; without it (tests) they stay in memory only. */
  checkpoints?: CheckpointStore;
  /** A studio model's files by id (the built-in model, or a hub model loaded from the browser cache). */
  modelFiles?(modelId: string): Record<string, Uint8Array> | undefined;
}

/** The runs slice's checkpoint state and its two ways to resume. */
export interface RunCheckpointsSlice {
  /** The latest checkpoint of each run that sent one (in memory), to resume after a lost device. */
  checkpoints: Record<string, CheckpointState>;
  /** Why a run's checkpoint could not be kept in browser storage (a full quota), by run id. */
  checkpointProblems: Record<string, string>;
  /** Starts a run kept in the history as interrupted (a closed tab) again from its stored checkpoint. */
  resumeStoredRun(id: string): Promise<void>;
  /** Starts an interrupted run again from its last checkpoint (or from the start without one). */
  resumeInterrupted(id: string): Promise<void>;
}

/** What of the store checkpoints read and write. */
type CheckpointsState = RunCheckpointsSlice &
  Pick<HistorySlice, 'history' | 'rememberRun' | 'keepInterruptible'> & {
    runs: Record<string, RunRecord>;
    runOrder: string[];
  };

/** What the runs slice lends: the store, its deps, the runs' specs and its ways to change a run. */
export interface RunCheckpointsHost {
  set(change: (s: CheckpointsState) => Partial<CheckpointsState>): void;
  get(): CheckpointsState;
  deps: RunCheckpointsDeps;
  /** What each run of this session was started with (resuming a stored run adds its spec). */
  specs: Map<string, RunSpec>;
  /** The worker client, made on first use. */
  connect(): StudioTrainer;
  /** Changes the runs; records that end through it are handed to `keepEnded`. */
  update(change: (runs: Record<string, RunRecord>) => Record<string, RunRecord>): void;
  /** Ends an active run as failed with this error. */
  fail(id: string, error: RunError): void;
}

export interface RunCheckpoints {
  /** The state and actions spread into the runs slice. */
  slice: RunCheckpointsSlice;
  /** A checkpoint the worker sent: kept in memory, and in the checkpoint store with the run's spec. */
  keepCheckpoint(id: string, step: number, checkpoint: CheckpointState): void;
  /** A run that just ended: its record goes to the history once its checkpoint writes are done. */
  keepEnded(record: RunRecord): void;
}

export function createRunCheckpoints(host: RunCheckpointsHost): RunCheckpoints {
  const { set, get, deps, specs, connect, update, fail } = host;

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
        set((s) => ({ checkpointProblems: { ...s.checkpointProblems, [id]: runErrorOf(error).message } }));
        return;
      }
      set((s) => {
        const { [id]: _gone, ...rest } = s.checkpointProblems;
        return { checkpointProblems: rest };
      });
      if (isActive(get().runs[id]?.status ?? 'finished')) await get().keepInterruptible(atCheckpoint);
    });
  };

  return {
    keepCheckpoint: (id, step, checkpoint) => {
      set((s) => ({ checkpoints: { ...s.checkpoints, [id]: checkpoint } }));
      persistCheckpoint(id, step, checkpoint);
    },

    keepEnded: (record) =>
      // After any checkpoint write still under way, so the final record is the one kept.
      afterWrites(record.id, async () => {
        await get().rememberRun(record);
        // A lost device keeps its checkpoint to resume from; any other end has no use for it.
        if (record.status !== 'interrupted') await deps.checkpoints?.remove(record.id);
      }),

    slice: {
      checkpoints: {},
      checkpointProblems: {},

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
          fail(id, runErrorOf(error));
        }
      },

      resumeStoredRun: async (id) => {
        const record = get().history.runs.find((r) => r.id === id);
        if (record?.status !== 'interrupted' || isActive(get().runs[id]?.status ?? 'finished')) return;
        const report = (message: string) =>
          set((s) => ({ checkpointProblems: { ...s.checkpointProblems, [id]: message } }));
        let stored: Awaited<ReturnType<CheckpointStore['load']>>;
        try {
          stored = await deps.checkpoints?.load(id);
        } catch (error) {
          return report(runErrorOf(error).message);
        }
        if (!stored)
          return report(
            new ResumeError(`Run ${record.label} has no checkpoint kept in this browser.`).message,
          );
        const modelFiles = deps.modelFiles?.(stored.modelId);
        if (!modelFiles)
          return report(
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
    },
  };
}
