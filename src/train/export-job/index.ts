/**
 * Export a run as a ready TRL + PEFT job on accelerate (issue 9). The app calls `exportJob` with the run
 * config, the model's config and the dataset bytes and gets back { path: text } to zip or download; the
 * CLI (`whetstone export-job`) writes the same map to a folder.
 */
export { decoderLayerClass } from './accelerate-configs';
export { ExportJobError, RunConfigError } from './errors';
export {
  type DatasetBytes,
  type ExportJobInput,
  exportJob,
  type JobFiles,
  jobFiles,
  loadRunDataset,
} from './export-job';
export { jobDataset, jobSplit } from './job-dataset';
export { parseRunConfig, parseRunConfigJson } from './parse-run-config';
export { adapterConfigForRun, jobPeftConfig } from './peft-config';
export type { JobMethod, RunConfig, RunDataConfig } from './run-config';
export { sftKwargs } from './sft-config';
