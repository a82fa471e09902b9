/**
 * Runs from earlier sessions an adapter can be scored on (issue 9): ended history runs with a validation
 * split whose spec was kept. Each comes with whether it can be rebuilt here, and if not, why (its dataset
 * was deleted, or its model is not in this browser's cache), so the picker can say so instead of hiding it.
 * Exported "Run at scale…" jobs have no history record; they are offered from their kept spec alone.
 * DPO runs are offered like the others: the worker scores an adapter on their validation pairs.
 */
import { type KeptRunSpec, type SpecAvailability, specAvailability } from '../storage/run-spec-store';
import { isActive, type RunRecord } from './run-record';

export interface HistoryChoice {
  run: RunRecord;
  availability: SpecAvailability;
}

export function historyChoices(
  here: {
    kept: readonly KeptRunSpec[];
    pastRuns: readonly RunRecord[];
    liveRuns: Readonly<Record<string, RunRecord>>;
    /** Ids in the dataset library now. */
    datasetIds: ReadonlySet<string>;
  },
  hasModel: (modelId: string) => boolean,
): HistoryChoice[] {
  return here.pastRuns.flatMap((run) => {
    // A run of this session is offered from the session, with its spec in memory.
    if (here.liveRuns[run.id] || isActive(run.status) || run.settings.validationExamples <= 0) return [];
    const kept = here.kept.find((k) => k.runId === run.id && k.kind === 'run');
    if (!kept) return [];
    return [{ run, availability: specAvailability(kept, { hasModel, datasetIds: here.datasetIds }) }];
  });
}

export interface JobChoice {
  job: KeptRunSpec;
  availability: SpecAvailability;
}

/** Exported jobs with a validation split, newest first, each with whether it can be rebuilt here. */
export function exportedJobChoices(
  kept: readonly KeptRunSpec[],
  datasetIds: ReadonlySet<string>,
  hasModel: (modelId: string) => boolean,
): JobChoice[] {
  return kept
    .filter((k) => k.kind === 'exported-job' && (k.validationExamples ?? 0) > 0)
    .sort((a, b) => b.savedAt - a.savedAt)
    .map((job) => ({ job, availability: specAvailability(job, { hasModel, datasetIds }) }));
}
