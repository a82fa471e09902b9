/**
 * The playground's preference pairs: once every answer to a prompt is in and at least two answered, the
 * person marks one answer better and another worse and keeps them as a pair, appended to a JSON Lines
 * file in the dataset library (keep-preference-pair.ts), ready to train DPO on. Marks belong to one
 * Generate (the playground's `answered.round`): a new prompt's answers start unmarked. A kept pair clears
 * the marks, and the same two answers cannot be kept twice. The library is listed again after each pair,
 * and the file re-read when it is the studio's dataset, so a run started next trains on every pair.
 */
import type { StateCreator } from 'zustand';
import type { AnalysisContext, DatasetSlice } from './dataset-slice';
import { type KeepPairDeps, keepPreferencePairIn } from './keep-preference-pair';
import type { PlaygroundSlice } from './playground-slice';
import { type AnswerMarks, markedPair, preferenceRow } from './preference-pair';

export interface PreferencePairsState {
  /** The marks on the answers of Generate number `round`; an earlier round's marks count as none. */
  marks: AnswerMarks & { round: number };
  /** Pairs kept from round `round`'s answers, as "better>worse" column keys. */
  kept: { round: number; pairs: string[] };
  saving: boolean;
  /** Why the last pair was not kept (a full storage, a file of another schema), or null. */
  error: string | null;
}

export interface PreferencePairsSlice {
  preferencePairs: PreferencePairsState;
  /** Marks the column's answer better or worse (again: unmarks it); one answer holds one mark. */
  markAnswer(key: string, mark: keyof AnswerMarks): void;
  keepPreferencePair(context: AnalysisContext): Promise<void>;
}

type Store = PreferencePairsSlice & Pick<PlaygroundSlice, 'playground'> & DatasetSlice;

const roundOf = (s: Pick<Store, 'playground'>) => s.playground.answered?.round ?? 0;

/** The marks on the answers now shown. */
export function currentMarks(s: Pick<Store, 'playground' | 'preferencePairs'>): AnswerMarks {
  const { marks } = s.preferencePairs;
  return marks.round === roundOf(s) ? marks : { better: null, worse: null };
}

/** The pair the marks make, or why there is none to keep. */
export function pairToKeep(s: Pick<Store, 'playground' | 'preferencePairs'>): ReturnType<typeof markedPair> {
  const pair = markedPair(s.playground.columns, currentMarks(s));
  if ('problem' in pair) return pair;
  const { kept } = s.preferencePairs;
  if (kept.round === roundOf(s) && kept.pairs.includes(`${pair.better.key}>${pair.worse.key}`))
    return { problem: 'This pair is kept already: mark another.' };
  return pair;
}

export function preferencePairsSliceWith(
  deps: KeepPairDeps,
): StateCreator<Store, [], [], PreferencePairsSlice> {
  return (set, get) => {
    /** Pairs are written one after another, each appending to the file the previous one wrote. */
    let queue: Promise<unknown> = Promise.resolve();
    const patch = (change: Partial<PreferencePairsState>) =>
      set((s) => ({ preferencePairs: { ...s.preferencePairs, ...change } }));

    return {
      preferencePairs: {
        marks: { round: 0, better: null, worse: null },
        kept: { round: 0, pairs: [] },
        saving: false,
        error: null,
      },

      markAnswer: (key, mark) => {
        const marks = currentMarks(get());
        const other = mark === 'better' ? 'worse' : 'better';
        const next = { ...marks, [mark]: marks[mark] === key ? null : key };
        if (next[other] === key) next[other] = null;
        patch({ marks: { ...next, round: roundOf(get()) }, error: null });
      },

      keepPreferencePair: async (context) => {
        const state = get();
        const pair = pairToKeep(state);
        const answered = state.playground.answered;
        if ('problem' in pair || !answered || state.preferencePairs.saving) return;
        const row = preferenceRow(answered.prompt, pair.better, pair.worse);
        const { round } = answered;
        patch({ saving: true, error: null });
        const job = queue.then(() => keepPreferencePairIn(deps, row, context));
        queue = job.catch(() => undefined);
        let entryId: string;
        try {
          entryId = (await job).id;
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          patch({ saving: false, error: `The pair was not kept: ${reason}` });
          return;
        }
        set((s) => ({
          preferencePairs: {
            ...s.preferencePairs,
            saving: false,
            marks: { round, better: null, worse: null },
            kept: {
              round,
              pairs: [
                ...(s.preferencePairs.kept.round === round ? s.preferencePairs.kept.pairs : []),
                `${pair.better.key}>${pair.worse.key}`,
              ],
            },
          },
        }));
        await get().refreshDatasetLibrary();
        const { dataset } = get();
        if (dataset.source === 'library' && dataset.library.activeId === entryId)
          await get().selectDataset(entryId, context);
      },
    };
  };
}
