/**
 * A Whetstone run as a folder that runs with `accelerate launch train.py` on machines with GPUs:
 *   train.py                   generated from the run (train-script.ts)
 *   dataset/train.jsonl        the examples and split the browser run trained on (job-dataset.ts)
 *   dataset/validation.jsonl   (only when there is a validation set)
 *   accelerate/*.yaml          one GPU, DeepSpeed ZeRO-2 and ZeRO-3, FSDP (accelerate-configs.ts)
 *   requirements.txt           pinned versions (requirements.ts)
 *   README.md                  how to run it and what to bring back (readme.ts)
 *   run-config.json            the run config, defaults filled in
 * `exportJob` is a plain function from the run config, the model's config and the dataset bytes to a
 * map of path → text, so the CLI writes it to a folder and the app zips or downloads it. A run it cannot
 * express (bottleneck adapters, classification data, a quantized base under full fine-tuning) is an
 * ExportJobError that says why (LoRA+ on another method, too). A QLoRA run (model.quantization "nf4") loads its base through bitsandbytes.
 * An early-stopping run stops as the browser run does and saves the best checkpoint's weights
 * (early-stopping.ts); one without evaluations or validation examples, or on projected prefix tuning,
 * is refused. A DPO run (training.preference) trains TRL's DPOTrainer on its preference pairs
 * (export-dpo-job.ts); prompt tuning, and data that is not preference pairs, are refused there.
 */
import { type LoadedDataset, loadDataset } from '../data/load-dataset';
import type { DecoderConfig } from '../models/config';
import { accelerateConfigs } from './accelerate-configs';
import { preferenceOf, refuseUnexportableDpo } from './dpo';
import { refuseEarlyStoppingWithoutValidation, refuseUnexportableEarlyStopping } from './early-stopping';
import { ExportJobError } from './errors';
import { dpoJobFiles } from './export-dpo-job';
import { jobDataset } from './job-dataset';
import { refuseLoraPlusWithoutLora } from './loraplus';
import { jobPeftConfig } from './peft-config';
import { readmeMd } from './readme';
import { requirementsTxt } from './requirements';
import { type RunConfig, runConfigJson } from './run-config';
import { sftKwargs } from './sft-config';
import { trainFile, trainScript, validationFile } from './train-script';

/** Relative path → file text. */
export type JobFiles = Record<string, string>;

export interface DatasetBytes {
  /** The file's name: its extension helps detect the format. */
  name: string;
  bytes: Uint8Array;
}

export interface ExportJobInput {
  run: RunConfig;
  /** The base model's config (parseModelConfig of its config.json). */
  model: DecoderConfig;
  dataset: DatasetBytes;
  /** Required when run.data.validationFile is set. */
  validation?: DatasetBytes;
}

/** parseRunConfig refuses this too; a run config built in code reaches export without it. */
function refuseQuantizedFullFineTuning(run: RunConfig): void {
  if (run.model.quantization && run.method.method === 'full')
    throw new ExportJobError(
      `Full fine-tuning trains every weight, so its base cannot load quantized to ${run.model.quantization}. ` +
        'Export a PEFT run (LoRA, DoRA, IA3, prompt or prefix tuning) on the quantized base, or drop the quantization.',
    );
}

/** The job's files from datasets already loaded (loadDataset with the run's data options). */
export function jobFiles(
  run: RunConfig,
  model: DecoderConfig,
  dataset: LoadedDataset,
  validation?: LoadedDataset,
): JobFiles {
  refuseQuantizedFullFineTuning(run);
  refuseLoraPlusWithoutLora(run);
  refuseUnexportableEarlyStopping(run);
  refuseUnexportableDpo(run);
  const peft = jobPeftConfig(run, model); // refuses methods PEFT lacks before any other work
  // Gemma 2's soft-capped scores: transformers' SDPA path leaves the cap out, its eager one applies it.
  const attn = model.gemma?.attentionSoftcap === undefined ? {} : { attnImplementation: 'eager' as const };
  if (preferenceOf(run)) return dpoJobFiles({ run, model, peft, dataset, validation, ...attn });
  const data = jobDataset(dataset, validation, {
    validationFraction: run.data.validationFraction,
    seed: run.training.seed,
  });
  refuseEarlyStoppingWithoutValidation(run, data.validation.length);
  const hasValidation = data.validation.length > 0;
  const sft = sftKwargs({ training: run.training, data: run.data, shape: data.shape, hasValidation });
  return {
    'train.py': trainScript({
      run,
      peft,
      sft,
      shape: data.shape,
      hasValidation,
      ...attn,
    }),
    [trainFile]: data.trainJsonl,
    ...(hasValidation ? { [validationFile]: data.validationJsonl } : {}),
    ...accelerateConfigs(model, run.training),
    'requirements.txt': requirementsTxt(run.model.quantization),
    'README.md': readmeMd({ run, peft, dataset: data }),
    'run-config.json': runConfigJson(run),
  };
}

/** Loads a dataset file with the run's data options, as the browser run loaded it. */
export function loadRunDataset(run: RunConfig, file: DatasetBytes): Promise<LoadedDataset> {
  const d = run.data;
  return loadDataset(file.name, file.bytes, {
    ...(d.format ? { format: d.format } : {}),
    ...(d.textMode ? { textMode: d.textMode } : {}),
    ...(d.schema ? { schema: d.schema } : {}),
    skipBadRows: d.skipBadRows,
  });
}

/** The run's training file and, when it names one, its validation file, loaded as the browser run did. */
export async function loadRunDatasets(input: {
  run: RunConfig;
  dataset: DatasetBytes;
  validation?: DatasetBytes;
}): Promise<{ dataset: LoadedDataset; validation: LoadedDataset | undefined }> {
  const { run } = input;
  if (run.data.validationFile && !input.validation)
    throw new ExportJobError(
      `The run validates on ${run.data.validationFile}; hand in that file's bytes too (or drop validationFile).`,
    );
  return {
    dataset: await loadRunDataset(run, input.dataset),
    validation: input.validation && (await loadRunDataset(run, input.validation)),
  };
}

export async function exportJob(input: ExportJobInput): Promise<JobFiles> {
  refuseQuantizedFullFineTuning(input.run);
  refuseLoraPlusWithoutLora(input.run);
  refuseUnexportableEarlyStopping(input.run);
  refuseUnexportableDpo(input.run);
  jobPeftConfig(input.run, input.model);
  const { dataset, validation } = await loadRunDatasets(input);
  return jobFiles(input.run, input.model, dataset, validation);
}
