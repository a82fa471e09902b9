/**
 * Keeps a run's spec when it starts (issue 9), so a later session can still score an imported adapter
 * on the run's validation split: the spec goes to the run-spec store without model bytes (the studio
 * model id brings them back) and with a library file named by its dataset-library id (its bytes stay
 * in the library). A run whose file is not the library's current entry (no id) is not kept: evaluating
 * on it later could not rebuild the same split.
 *
 * A "Run at scale…" job is kept the same way (kind 'exported-job'): its dataset/ folder is split by the
 * same code and seed as the browser run would be (export-job/job-dataset.ts), so an adapter that comes
 * back from it can be scored on that split even when the run never trained in the browser. A classifier's
 * job (export-job/classification-dataset.ts) keeps its spec with task 'classification', so the worker
 * scores the SEQ_CLS adapter that comes back with the classification engine (accuracy, F1, loss).
 */
import type { RunSpec } from '../../train/worker/run-spec';
import { type KeptRunSpec, keptSpecOf, type RunSpecStore } from '../storage/run-spec-store';
import type { RunRecord } from './run-record';
import type { RunPlan } from './run-setup';

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

/**
 * The kept entry of an exported job, or null when it holds no validation split (too few rows, a text
 * read whole) or its file is not the library's current entry: then there is nothing to score on later.
 */
export function keptExportedJob(
  plan: RunPlan,
  job: { id: string; fileName: string; datasetId: string | null; savedAt: number },
): KeptRunSpec | null {
  const { settings, spec } = plan;
  if (!settings.validationHeldOut || settings.validationExamples <= 0) return null;
  if (spec.data?.file && !job.datasetId) return null;
  return {
    runId: job.id,
    kind: 'exported-job',
    label: `exported job ${job.fileName}`,
    modelId: settings.modelId,
    validationExamples: settings.validationExamples,
    spec: keptSpecOf(spec, job.datasetId),
    savedAt: job.savedAt,
  };
}
