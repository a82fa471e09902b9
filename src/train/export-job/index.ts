/**
 * Export a run as a ready TRL + PEFT job on accelerate (issue 9). The app calls `exportJob` with the run
 * config, the model's config and the dataset bytes and gets back { path: text } to zip or download; the
 * CLI (`whetstone export-job`) writes the same map to a folder. A classifier's run (an encoder config)
 * goes through `exportClassificationJob` instead: transformers' Trainer with PEFT SEQ_CLS. A DPO run
 * (training.preference) becomes a TRL DPOTrainer job on its preference pairs (export-dpo-job.ts).
 */
export { decoderLayerClass } from './accelerate-configs';
export { classifierPeftConfig, classifierTrainingKwargs } from './classification-config';
export { classificationJobDataset } from './classification-dataset';
export { dpoKwargs, refuseUnexportableDpo } from './dpo';
export { ExportJobError, RunConfigError } from './errors';
export {
  classificationJobFiles,
  type ExportClassificationJobInput,
  exportClassificationJob,
} from './export-classification-job';
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
export { preferenceJobDataset } from './preference-dataset';
export type { BaseQuantization, JobMethod, RunConfig, RunDataConfig } from './run-config';
export { sftKwargs } from './sft-config';
