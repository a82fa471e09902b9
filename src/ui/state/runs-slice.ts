/**
 * The runs slice: the runs of this session, live. It starts runs through the `TrainingClient` (the worker
 * in the app, a fake in tests), folds the worker's events into the runs' records, keeps the files a run
 * produced for download, and hands every run that ends to the history slice to be kept.
 * The client is made on the first start, so opening the page costs no worker and no GPU device.
 */
import type { StateCreator } from 'zustand';
import type { WorkerEvent } from '../../train/worker/protocol';
import type { TrainingClient } from '../../train/worker/training-client';
import type { HistorySlice } from './history-slice';
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
  trainer(): TrainingClient;
  newId(): string;
  now(): number;
}

export interface RunsSlice {
  runs: Record<string, RunRecord>;
  /** Run ids in the order they were started. */
  runOrder: string[];
  /** The files each ended run produced, by run id (kept in memory for download, not persisted). */
  runFiles: Record<string, Record<string, Uint8Array>>;
  /** Runs whose stop was asked for and that have not ended yet. */
  stopping: Record<string, true>;
  startRuns(plans: RunPlan[]): Promise<string[]>;
  stopRun(id: string): Promise<void>;
  /** Takes ended runs off the live comparison; they stay in the history. */
  clearEndedRuns(): void;
}

const errorOf = (error: unknown): RunError =>
  error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };

type Store = RunsSlice & HistorySlice;

export function createRunsSlice(deps: RunsDeps): StateCreator<Store, [], [], RunsSlice> {
  return (set, get) => {
    let client: TrainingClient | undefined;

    /** Records that just ended go to the history (and to IndexedDB) once. */
    const keepEnded = (before: Record<string, RunRecord>, after: Record<string, RunRecord>) => {
      for (const [id, record] of Object.entries(after)) {
        const was = before[id];
        if (was && isActive(was.status) && !isActive(record.status)) void get().rememberRun(record);
      }
    };

    const update = (change: (runs: Record<string, RunRecord>) => Record<string, RunRecord>) => {
      const before = get().runs;
      const after = change(before);
      if (after === before) return;
      set({ runs: after });
      keepEnded(before, after);
    };

    const onEvent = (event: WorkerEvent) => {
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

    return {
      runs: {},
      runOrder: [],
      runFiles: {},
      stopping: {},

      startRuns: async (plans) => {
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
        let trainer: TrainingClient;
        try {
          trainer = connect();
        } catch (error) {
          for (const record of records) fail(record.id, errorOf(error));
          return records.map((r) => r.id);
        }
        await Promise.all(
          records.map(async (record, i) => {
            try {
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

      clearEndedRuns: () =>
        set((s) => {
          const kept = s.runOrder.filter((id) => isActive(s.runs[id]?.status ?? 'finished'));
          return {
            runOrder: kept,
            runs: Object.fromEntries(kept.map((id) => [id, s.runs[id] as RunRecord])),
            runFiles: Object.fromEntries(Object.entries(s.runFiles).filter(([id]) => kept.includes(id))),
          };
        }),
    };
  };
}
