/**
 * A Whetstone classification run (an encoder classifier: BERT, DistilBERT, RoBERTa) as a folder that runs
 * with `accelerate launch train.py` on machines with GPUs, the classifier's counterpart of export-job.ts:
 *   train.py                   transformers Trainer + AutoModelForSequenceClassification (+ PEFT SEQ_CLS)
 *   dataset/train.jsonl        the rows and seeded split the browser's classifier run uses
 *   dataset/validation.jsonl   (only when there is a validation set)
 *   accelerate/single_gpu.yaml, accelerate/multi_gpu.yaml   one GPU; data parallel on several
 *   requirements.txt, README.md, run-config.json
 * Encoders this size replicate on every GPU, so data parallelism is the one multi-GPU layout written.
 * Refused by ExportJobError: bottleneck adapters, prefix tuning on DistilBERT, rows of another schema, and
 * a quantized base (model.quantization): encoders load in f32, as Whetstone's classifier runs load them.
 * Early stopping is a RunConfigError on training.earlyStoppingPatience, as the classifier engine refuses it.
 */
import type { LoadedDataset } from '../data/load-dataset';
import type { EncoderConfig } from '../models/bert-config';
import { classifierPeftConfig, classifierTrainingKwargs, encoderMaxLength } from './classification-config';
import { classificationJobDataset } from './classification-dataset';
import { classificationReadmeMd } from './classification-readme';
import { classificationScript } from './classification-script';
import { refuseEarlyStoppingInClassifier } from './early-stopping';
import { ExportJobError } from './errors';
import { type DatasetBytes, type JobFiles, loadRunDatasets } from './export-job';
import { refuseLoraPlusWithoutLora } from './loraplus';
import { classificationRequirementsTxt } from './requirements';
import { type RunConfig, runConfigJson } from './run-config';
import { trainFile, validationFile } from './train-script';
import { yamlDocument } from './yaml';

export interface ExportClassificationJobInput {
  run: RunConfig;
  /** The encoder's config (parseEncoderConfig of its config.json). */
  model: EncoderConfig;
  dataset: DatasetBytes;
  /** Required when run.data.validationFile is set. */
  validation?: DatasetBytes;
}

const launcher = {
  compute_environment: 'LOCAL_MACHINE',
  debug: false,
  machine_rank: 0,
  main_training_function: 'main',
  mixed_precision: 'bf16',
  num_machines: 1,
  rdzv_backend: 'static',
  same_network: true,
  use_cpu: false,
} as const;

function classificationAccelerateConfigs(): Record<string, string> {
  return {
    'accelerate/single_gpu.yaml': yamlDocument(
      { ...launcher, distributed_type: 'NO', num_processes: 1 },
      'One GPU: accelerate launch --config_file accelerate/single_gpu.yaml train.py',
    ),
    'accelerate/multi_gpu.yaml': yamlDocument(
      { ...launcher, distributed_type: 'MULTI_GPU', num_processes: 8 },
      'Data parallel on several GPUs (set --num_processes to the GPU count).',
    ),
  };
}

function refuseQuantizedEncoder(run: RunConfig): void {
  if (run.model.quantization)
    throw new ExportJobError(
      `model.quantization "${run.model.quantization}" applies to decoder language models; encoder classifiers ` +
        'load in f32, in Whetstone and in this job. Leave quantization out of a classifier run.',
    );
}

/** The job's files from datasets already loaded (loadRunDataset with the run's data options). */
export function classificationJobFiles(
  run: RunConfig,
  model: EncoderConfig,
  dataset: LoadedDataset,
  validation?: LoadedDataset,
): JobFiles {
  refuseEarlyStoppingInClassifier(run);
  refuseQuantizedEncoder(run);
  refuseLoraPlusWithoutLora(run);
  const peft = classifierPeftConfig(run, model); // refuses what PEFT lacks before any other work
  const data = classificationJobDataset(dataset, validation, {
    validationFraction: run.data.validationFraction,
    seed: run.training.seed,
    skipBadRows: run.data.skipBadRows,
  });
  const hasValidation = data.validation.length > 0;
  const maxLength = encoderMaxLength(model, run.training.seqLen);
  return {
    'train.py': classificationScript({
      run,
      peft,
      training: classifierTrainingKwargs(run.training, hasValidation),
      labelSet: data.labelSet,
      pairs: data.pairs,
      maxLength,
      hasValidation,
    }),
    [trainFile]: data.trainJsonl,
    ...(hasValidation ? { [validationFile]: data.validationJsonl } : {}),
    ...classificationAccelerateConfigs(),
    'requirements.txt': classificationRequirementsTxt(),
    'README.md': classificationReadmeMd({ run, peft, dataset: data, maxLength }),
    'run-config.json': runConfigJson(run),
  };
}

export async function exportClassificationJob(input: ExportClassificationJobInput): Promise<JobFiles> {
  refuseEarlyStoppingInClassifier(input.run);
  refuseQuantizedEncoder(input.run);
  refuseLoraPlusWithoutLora(input.run);
  classifierPeftConfig(input.run, input.model);
  const { dataset, validation } = await loadRunDatasets(input);
  return classificationJobFiles(input.run, input.model, dataset, validation);
}
