/**
 * Keeps a run's spec when it starts (issue 9), so a later session can still score an imported adapter
 * on the run's validation split: the spec goes to the run-spec store without model bytes (the studio
 * model id brings them back) and with a library file named by its dataset-library id (its bytes stay
 * in the library). A run whose file is not the library's current entry (no id) is not kept: evaluating
 * on it later could not rebuild the same split.
 */
import type { RunSpec } from '../../train/worker/run-spec';
import { keptSpecOf, type RunSpecStore } from '../storage/run-spec-store';
import type { RunRecord } from './run-record';

export type KeepRunSpec = (record: RunRecord, spec: RunSpec) => Promise<void>;

export function keepRunSpecWith(
  store: () => RunSpecStore,
  /** The dataset-library id of the file a spec trains on, or null when it is not a library entry. */
  datasetIdOf: (blob: Blob) => string | null,
  now: () => number,
): KeepRunSpec {
  return async (record, spec) => {
    const blob = spec.data?.file?.blob;
    const datasetId = blob ? datasetIdOf(blob) : null;
    if (blob && !datasetId) return;
    await store().save({
      runId: record.id,
      kind: 'run',
      label: record.label,
      modelId: record.settings.modelId,
      spec: keptSpecOf(spec, datasetId),
      savedAt: now(),
    });
  };
}
