/**
 * "Run at scale…": the current setup as a run config (issue 9) and the TRL + PEFT job folder that
 * exportJob writes for it, zipped with fflate for download. The job trains and validates on exactly the
 * examples the browser run would: pasted texts go in as the studio splits them (training rows, then the
 * held-out rows as a separate validation file); a library file goes in as its bytes with the same read
 * settings and validation fraction, which exportJob splits with the same seeded split the worker uses.
 * A classifier's setup (an encoder config given) becomes a transformers Trainer + PEFT SEQ_CLS job
 * (exportClassificationJob), on its library file split as the classifier run splits it.
 * A DPO run (the studio's `train.preference`, β included) goes into the run config's training section as it
 * is, and exportJob writes TRL's DPOTrainer job on the file's preference pairs; prompt masking and packing
 * do not apply to pairs, so the job gets their DPO values (masked, unpacked) whatever the switches say.
 */
import { strToU8, zipSync } from 'fflate';
import {
  exportClassificationJob,
  exportJob,
  type JobMethod,
  type RunConfig,
} from '../../../train/export-job/index';
import { type EncoderConfig, isEncoderConfig } from '../../../train/models/bert-config';
import type { DecoderConfig } from '../../../train/models/config';
import type { TrainConfig } from '../../../train/train-config';
import type { MethodSpec } from '../../../train/worker/run-spec';
import type { TrainingDataset } from '../../state/dataset-slice';
import { splitValidation } from '../../state/read-dataset';
import { studioValidationFraction } from '../../state/run-setup';

/**
 * Why a method cannot be exported, or null when PEFT has it (for a classifier: on this encoder; for a DPO
 * run: under TRL's DPOTrainer).
 */
export function exportUnavailableReason(
  method: MethodSpec['method'],
  encoder?: Pick<EncoderConfig, 'family'>,
  options: { dpo?: boolean } = {},
): string | null {
  if (method === 'adapter')
    return encoder
      ? 'Bottleneck adapters are not a PEFT method, so transformers + PEFT cannot run them; choose LoRA, DoRA, IA3, prefix, prompt or full fine-tuning to export.'
      : 'Bottleneck adapters are not a PEFT method, so TRL + PEFT cannot run them; choose LoRA, DoRA, IA3, prefix, prompt or full fine-tuning to export.';
  if (method === 'prefix' && encoder?.family === 'distilbert')
    return 'DistilBERT takes no past key/values, so PEFT cannot prefix-tune it; choose prompt tuning, LoRA, DoRA, IA3 or full fine-tuning to export.';
  if (method === 'prompt' && options.dpo && !encoder)
    return "TRL's DPOTrainer cannot score prompt tuning's virtual tokens; choose prefix tuning, LoRA, DoRA, IA3 or full fine-tuning to export a DPO run.";
  return null;
}

export function jobMethodOf(method: MethodSpec): JobMethod {
  switch (method.method) {
    case 'full':
      return { method: 'full' };
    case 'lora':
    case 'dora':
      return {
        method: 'lora',
        r: method.r,
        alpha: method.alpha,
        dropout: method.dropout,
        ...(method.targetModules ? { targetModules: method.targetModules } : {}),
        useRslora: Boolean(method.useRslora),
        useDora: method.method === 'dora',
      };
    case 'ia3':
      return { method: 'ia3', ...(method.targetModules ? { targetModules: method.targetModules } : {}) };
    case 'prompt':
      return { method: 'prompt', numVirtualTokens: method.numVirtualTokens };
    case 'prefix':
      return {
        method: 'prefix',
        numVirtualTokens: method.numVirtualTokens,
        prefixProjection: Boolean(method.prefixProjection),
        ...(method.encoderHiddenSize ? { encoderHiddenSize: method.encoderHiddenSize } : {}),
      };
    case 'adapter':
      return { method: 'adapter', reductionFactor: method.reductionFactor };
  }
}

const jsonl = (texts: string[]) => strToU8(`${texts.map((text) => JSON.stringify({ text })).join('\n')}\n`);

export interface ScaleJobInput {
  modelName: string;
  /** A language model's config, or a classifier's encoder config (then a classification job). */
  model: DecoderConfig | EncoderConfig;
  method: MethodSpec;
  train: TrainConfig;
  data: TrainingDataset;
  /** The setup's switches, so the job masks prompts and packs rows exactly as the browser run would. */
  maskPrompt: boolean;
  packing: boolean;
  /** The run's frozen base quantized to NF4 (QLoRA): the job loads it so through bitsandbytes. */
  baseQuantization?: 'nf4';
}

/** The switches as the run trains them: a DPO run always masks its prompts and never packs its pairs. */
const baseDataOf = (input: ScaleJobInput) => {
  const dpo = input.train.preference !== undefined;
  return {
    skipBadRows: false,
    maskPrompt: dpo || input.maskPrompt,
    packing: !dpo && input.packing,
    validationFraction: 0,
  };
};

/** The run config and the dataset bytes exportJob reads. */
async function jobInput(input: ScaleJobInput) {
  const common = {
    id: input.modelName,
    revision: null,
    ...(input.baseQuantization ? { quantization: input.baseQuantization } : {}),
  };
  const method = jobMethodOf(input.method);
  const baseData = baseDataOf(input);
  if (input.data.kind === 'texts') {
    const split = splitValidation(input.data.texts);
    // With fewer than 4 rows the studio validates on the training rows; the job then has no split.
    const run: RunConfig = {
      model: common,
      method,
      training: input.train,
      data: {
        ...baseData,
        file: 'train.jsonl',
        format: 'jsonl',
        ...(split.heldOut ? { validationFile: 'validation.jsonl' } : {}),
      },
    };
    return {
      run,
      dataset: { name: 'train.jsonl', bytes: jsonl(split.train) },
      ...(split.heldOut ? { validation: { name: 'validation.jsonl', bytes: jsonl(split.validation) } } : {}),
    };
  }
  const { file, fileName, settings, format } = input.data;
  const run: RunConfig = {
    model: common,
    method,
    training: input.train,
    data: {
      ...baseData,
      file: fileName,
      format,
      ...(settings.schema ? { schema: settings.schema } : {}),
      ...(settings.textMode ? { textMode: settings.textMode } : {}),
      skipBadRows: settings.skipBadRows,
      validationFraction: settings.textMode === 'whole' ? 0 : studioValidationFraction,
    },
  };
  return { run, dataset: { name: fileName, bytes: new Uint8Array(await file.arrayBuffer()) } };
}

/** The run config the job is made from (also written into the zip as run-config.json). */
export async function runConfigFor(input: ScaleJobInput): Promise<RunConfig> {
  return (await jobInput(input)).run;
}

/** The job folder as a zip (path → bytes), ready for saveBytes. */
export async function scaleJobZip(input: ScaleJobInput): Promise<Uint8Array> {
  const job = await jobInput(input);
  const files = isEncoderConfig(input.model)
    ? await exportClassificationJob({ ...job, model: input.model })
    : await exportJob({ ...job, model: input.model });
  return zipSync(Object.fromEntries(Object.entries(files).map(([path, text]) => [path, strToU8(text)])));
}
