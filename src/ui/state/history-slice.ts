/**
 * The history slice: runs kept in the archive (IndexedDB in the app), so a reload shows past comparisons
 * with their curves. The runs slice hands every run that ends to `rememberRun`, and every checkpointed
 * run still training to `keepInterruptible`, so a closed tab leaves it in the history as interrupted.
 */
import type { StateCreator } from 'zustand';
import type { CheckpointStore } from '../storage/checkpoint-store';
import type { RunArchive } from './run-archive';
import type { RunRecord } from './run-record';

export type HistoryState =
  | { status: 'loading'; runs: RunRecord[]; error: null }
  | { status: 'ready'; runs: RunRecord[]; error: null }
  | { status: 'unavailable'; runs: RunRecord[]; error: string };

export interface HistorySlice {
  history: HistoryState;
  loadHistory(): Promise<void>;
  rememberRun(record: RunRecord): Promise<void>;
  /**
   * Keeps a run still training on disk only, as it would be found if the tab closed now: 'interrupted'
   * at its latest checkpoint. The live comparison shows it meanwhile; `rememberRun` replaces it at the end.
   */
  keepInterruptible(record: RunRecord): Promise<void>;
  forgetRun(id: string): Promise<void>;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function createHistorySlice(
  archive: RunArchive,
  /** A forgotten run's kept checkpoint goes too, so storage is not held for a run no one can see. */
  checkpoints?: Pick<CheckpointStore, 'remove'>,
): StateCreator<HistorySlice, [], [], HistorySlice> {
  return (set) => {
    const failed = (error: unknown) =>
      set((s) => ({
        history: {
          status: 'unavailable',
          runs: s.history.runs,
          error: `Past runs cannot be kept in this browser's storage: ${message(error)}`,
        },
      }));
    return {
      history: { status: 'loading', runs: [], error: null },
      loadHistory: async () => {
        try {
          const runs = await archive.list();
          set({ history: { status: 'ready', runs, error: null } });
        } catch (error) {
          failed(error);
        }
      },
      rememberRun: async (record) => {
        // Shown at once; kept on disk as well when storage allows.
        set((s) => ({
          history: { ...s.history, runs: [...s.history.runs.filter((r) => r.id !== record.id), record] },
        }));
        try {
          await archive.save(record);
        } catch (error) {
          failed(error);
        }
      },
      keepInterruptible: async (record) => {
        try {
          await archive.save(record);
        } catch (error) {
          failed(error);
        }
      },
      forgetRun: async (id) => {
        set((s) => ({ history: { ...s.history, runs: s.history.runs.filter((r) => r.id !== id) } }));
        try {
          await archive.remove(id);
          await checkpoints?.remove(id);
        } catch (error) {
          failed(error);
        }
      },
    };
  };
}
