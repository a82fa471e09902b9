/**
 * The runs slice: the runs of this session, live. It starts runs through the `StudioTrainer` (the worker
 * in the app, a fake in tests), folds the worker's events into the runs' records, keeps the files a run
 * produced for download, and hands every run that ends to the history slice to be kept.
 * The client is made on the first start, so opening the page costs no worker and no GPU device.
 * Checkpoints (in memory and in IndexedDB) and resuming from them live in run-checkpoints.ts, composed
 * here. Runs that leave the live comparison (removed, or a new comparison started) give their GPU memory
 * back (`release-run`); kept adapters open again from the adapter library in the playground.
 */
import type { StateCreator } from 'zustand';
import type { RunSpec } from '../../train/worker/run-spec';
import type { RunEvent, StudioTrainer } from '../../train/worker/training-client';
import type { AdaptersSlice } from './adapters-slice';
import type { HistorySlice } from './history-slice';
import type { KeepRunSpec } from './keep-run-spec';
import { createRunCheckpoints, type RunCheckpointsDeps, type RunCheckpointsSlice } from './run-checkpoints';
import { applyEvent, isActive, type RunError, type RunRecord, runErrorOf } from './run-record';
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

/** The checkpoint store and model files (for resuming) are in `RunCheckpointsDeps`. */
export interface RunsDeps extends RunCheckpointsDeps {
  trainer(): StudioTrainer;
  newId(): string;
  /** Keeps each run's spec past its end (issue 9: evaluate imported adapters on its split later). */
  keepSpec?: KeepRunSpec;
}

export interface RunsSlice extends RunCheckpointsSlice {
  runs: Record<string, RunRecord>;
  /** Run ids in the order they were started. */
  runOrder: string[];
  /** The files each ended run produced, by run id (kept in memory for download, not persisted). */
  runFiles: Record<string, Record<string, Uint8Array>>;
  /** Runs whose stop was asked for and that have not ended yet. */
  stopping: Record<string, true>;
  /** Runs whose pause was asked for: the worker answers once the step in flight is done. */
  pausing: Record<string, true>;
  /** Gives an ended run's GPU memory back; resolves to the bytes freed (0 without a worker). */
  releaseRun(id: string): Promise<number>;
  startRuns(plans: RunPlan[]): Promise<string[]>;
  stopRun(id: string): Promise<void>;
  pauseRun(id: string): Promise<void>;
  resumeRun(id: string): Promise<void>;
  /** The engine the runs live in (made on first use), for the playground. */
  studioTrainer(): StudioTrainer;
  /** What a run of this session was started with (its validation split can be rebuilt from it). */
  runSpec(id: string): RunSpec | undefined;
  /** Takes ended runs off the live comparison; they stay in the history. */
  clearEndedRuns(): void;
}

/** The adapters slice is optional: without it (in tests) adapters are simply not kept. */
type Store = RunsSlice & HistorySlice & Partial<Pick<AdaptersSlice, 'keepRunAdapter'>>;

export function createRunsSlice(deps: RunsDeps): StateCreator<Store, [], [], RunsSlice> {
  return (set, get) => {
    let client: StudioTrainer | undefined;
    /** What each run of this session was started with, to start it again after a lost device. */
    const specs = new Map<string, RunSpec>();

    /** Records that just ended go to the history (and to IndexedDB) once. */
    const keepEnded = (before: Record<string, RunRecord>, after: Record<string, RunRecord>) => {
      for (const [id, record] of Object.entries(after)) {
        const was = before[id];
        if (was && isActive(was.status) && !isActive(record.status)) {
          checkpointing.keepEnded(record);
          const files = get().runFiles[id];
          if (files) void get().keepRunAdapter?.(record, files);
        }
      }
    };

    const update = (change: (runs: Record<string, RunRecord>) => Record<string, RunRecord>) => {
      const before = get().runs;
      const after = change(before);
      if (after === before) return;
      set({ runs: after });
      keepEnded(before, after);
    };

    const onEvent = (event: RunEvent) => {
      if (event.kind === 'checkpoint')
        checkpointing.keepCheckpoint(event.runId, event.step, event.checkpoint);
      if (event.kind === 'run-finished') {
        set((s) => ({ runFiles: { ...s.runFiles, [event.runId]: event.files } }));
      }
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

    const checkpointing = createRunCheckpoints({ set, get, deps, specs, connect, update, fail });

    return {
      ...checkpointing.slice,
      runs: {},
      runOrder: [],
      runFiles: {},
      stopping: {},
      pausing: {},

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
          for (const record of records) fail(record.id, runErrorOf(error));
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
              fail(record.id, runErrorOf(error));
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
          fail(id, runErrorOf(error));
        }
      },

      pauseRun: async (id) => {
        if (!client || get().runs[id]?.status !== 'running' || get().pausing[id]) return;
        set((s) => ({ pausing: { ...s.pausing, [id]: true } }));
        try {
          await client.pauseRun(id);
          update((runs) => {
            const record = runs[id];
            return record?.status === 'running' ? { ...runs, [id]: { ...record, status: 'paused' } } : runs;
          });
        } catch (error) {
          fail(id, runErrorOf(error));
        } finally {
          set((s) => {
            const { [id]: _, ...pausing } = s.pausing;
            return { pausing };
          });
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
          fail(id, runErrorOf(error));
        }
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
