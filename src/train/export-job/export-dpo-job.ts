/**
 * A DPO run's job folder (training.preference), which jobFiles (export-job.ts) hands over to once the
 * refusals every language-model job shares have passed and the PEFT config is made:
 *   train.py                   TRL's DPOTrainer + DPOConfig (dpo-script.ts, mapping in dpo.ts)
 *   dataset/train.jsonl        the preference pairs and seeded split the browser run uses (preference-dataset.ts)
 *   dataset/validation.jsonl   (only when there is a validation set)
 *   accelerate/*.yaml, requirements.txt, run-config.json   as every language-model job's
 *   README.md                  readme.ts with dpo-readme.ts's parts
 */
import type { LoadedDataset } from '../data/load-dataset';
import type { DecoderConfig } from '../models/config';
import { accelerateConfigs } from './accelerate-configs';
import { dpoKwargs } from './dpo';
import { dpoScript } from './dpo-script';
import { refuseEarlyStoppingWithoutValidation } from './early-stopping';
import type { JobPeftConfig } from './peft-config';
import { preferenceJobDataset } from './preference-dataset';
import { readmeMd } from './readme';
import { requirementsTxt } from './requirements';
import { type RunConfig, runConfigJson } from './run-config';
import { trainFile, validationFile } from './train-script';

export interface DpoJobInput {
  run: RunConfig;
  model: DecoderConfig;
  peft: JobPeftConfig | null;
  dataset: LoadedDataset;
  validation?: LoadedDataset;
  attnImplementation?: 'eager';
}

export function dpoJobFiles({
  run,
  model,
  peft,
  dataset,
  validation,
  attnImplementation,
}: DpoJobInput): Record<string, string> {
  const data = preferenceJobDataset(dataset, validation, {
    validationFraction: run.data.validationFraction,
    seed: run.training.seed,
  });
  refuseEarlyStoppingWithoutValidation(run, data.validation.length);
  const hasValidation = data.validation.length > 0;
  return {
    'train.py': dpoScript({
      run,
      peft,
      dpo: dpoKwargs(run, hasValidation),
      conversational: data.conversational,
      hasValidation,
      ...(attnImplementation ? { attnImplementation } : {}),
    }),
    [trainFile]: data.trainJsonl,
    ...(hasValidation ? { [validationFile]: data.validationJsonl } : {}),
    ...accelerateConfigs(model, run.training),
    'requirements.txt': requirementsTxt(run.model.quantization),
    'README.md': readmeMd({ run, peft, dataset: data }),
    'run-config.json': runConfigJson(run),
  };
}
