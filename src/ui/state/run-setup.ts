/**
 * The run setup form and what it turns into. The form keeps what was typed (strings, so "1e-" can be
 * typed on the way to "1e-3"); `planRuns` reads it into run plans (settings plus a RunSpec for the
 * worker) or into errors by field. Defaults live here once; presets override them. On a preference
 * dataset the runs train DPO unless the person chose SFT (preference-setup.ts).
 */
import type { Example } from '../../train/data/examples';
import {
  type DpoLossType,
  defaultTrainConfig,
  type TrainConfig,
  validateTrainConfig,
} from '../../train/train-config';
import type { LoraSpec, MethodName, MethodSpec, RunSpec } from '../../train/worker/run-spec';
import { findModel, type StudioModel, taskOf } from '../models/model-catalogue';
import { classificationData, taskDataProblem } from './classification-setup';
import type { TrainingDataset } from './dataset-slice';
import { defaultRateFields } from './learning-rates';
import { methodLabel } from './method-labels';
import {
  type DpoFields,
  dpoDefaults,
  dpoName,
  type RunObjective,
  readDpo,
  trainsDpo,
} from './preference-setup';
import { splitValidation } from './read-dataset';
import type { RunSettings } from './run-record';
import {
  defaultTrainingChoices,
  defaultTrainingExtraFields,
  readTrainingExtras,
  type TrainingChoices,
  type TrainingExtraFields,
  wholeAtLeast,
} from './training-extras';

export type MethodPreset = MethodName;
/** 'peft-default': PEFT's targets for the architecture (q_proj, v_proj for Llama, Qwen2 and Qwen3; c_attn for GPT-2). */
export type LoraTargets = 'peft-default' | 'all-linear';

export interface SetupFields extends TrainingExtraFields, DpoFields {
  steps: string;
  batchSize: string;
  /** The PEFT methods' learning rate. */
  lr: string;
  /** Full fine-tuning's learning rate (learning-rates.ts says why it differs). */
  fullLr: string;
  seqLen: string;
  evalEvery: string;
  loraR: string;
  loraAlpha: string;
  loraDropout: string;
  /** LoRA+: B's learning rate ÷ A's for LoRA and DoRA runs; blank for one rate. */
  loraPlusRatio: string;
  /** Prompt and prefix tuning. */
  numVirtualTokens: string;
  /** Bottleneck adapters: width C / reduction factor. */
  reductionFactor: string;
}

export type SetupField = keyof SetupFields;

export interface RunSetup extends TrainingChoices {
  modelId: string;
  preset: MethodPreset;
  /** What a preference dataset trains (DPO or SFT on the chosen responses); other datasets train SFT. */
  objective: RunObjective;
  /** DPO's loss: TRL's loss_type (sigmoid, DPO's own; hinge; ipo). */
  dpoLoss: DpoLossType;
  loraTargets: LoraTargets;
  /** rsLoRA scaling (alpha / sqrt r) for LoRA and DoRA. */
  useRslora: boolean;
  /** Train on the responses only (chat, prompt/completion); off is the CLI's --no-mask-prompt. */
  maskPrompt: boolean;
  /** Concatenate examples into full rows of the sequence length (the CLI's --packing). */
  packing: boolean;
  /**
   * Load a language model's frozen layer matrices as 4-bit NF4 for every method but full fine-tuning
   * (QLoRA; the CLI's --quantize nf4).
   */
  quantizeBase: boolean;
  fields: SetupFields;
}

/**
 * HF TrainingArguments' defaults, except where a short run on a small model wants otherwise. The rate
 * is the built-in model's; each model's rates come from learning-rates.ts.
 */
export const studioTrainDefaults: TrainConfig = {
  ...defaultTrainConfig,
  steps: 30,
  lr: 1e-3,
  seqLen: 64,
  evalEvery: 10,
};

/** LoRA as most recipes start it: PEFT's default targets, alpha = 2r, light dropout. */
export const loraDefaults = { r: 8, alpha: 16, dropout: 0.05, targets: 'peft-default' as LoraTargets };

export function defaultRunSetup(modelId: string): RunSetup {
  return {
    modelId,
    preset: 'lora',
    objective: 'dpo',
    dpoLoss: 'sigmoid',
    loraTargets: loraDefaults.targets,
    useRslora: false,
    maskPrompt: true,
    packing: false,
    quantizeBase: false,
    ...defaultTrainingChoices,
    fields: {
      ...defaultTrainingExtraFields,
      steps: String(studioTrainDefaults.steps),
      batchSize: String(studioTrainDefaults.batchSize),
      ...defaultRateFields(findModel(modelId)),
      dpoBeta: String(dpoDefaults.beta),
      seqLen: String(studioTrainDefaults.seqLen),
      evalEvery: String(studioTrainDefaults.evalEvery),
      loraR: String(loraDefaults.r),
      loraAlpha: String(loraDefaults.alpha),
      loraDropout: String(loraDefaults.dropout),
      loraPlusRatio: '',
      numVirtualTokens: '8',
      reductionFactor: '8',
    },
  };
}

export type FieldErrors = Partial<Record<SetupField, string>>;

interface ReadSetup {
  /** The PEFT methods' settings (with DPO's β for a DPO run); full fine-tuning's differ only in the rate (`fullLr`). */
  train: TrainConfig;
  fullLr: number;
  /** LoRA+ for the LoRA and DoRA runs (TrainConfig.loraPlusLrRatio). */
  loraPlusRatio?: number;
  lora: LoraSpec;
  /** The chosen preset's method. */
  chosen: MethodSpec;
}

function readSetup(
  setup: RunSetup,
  model: StudioModel,
  /** Read DPO's rates and β instead of SFT's rates. */
  dpo: boolean,
): { ok: true; value: ReadSetup } | FieldFailure {
  const errors: FieldErrors = {};
  const number = (field: SetupField, check: (n: number) => string | null): number => {
    const raw = setup.fields[field].trim();
    const n = raw === '' ? Number.NaN : Number(raw);
    const problem = Number.isFinite(n) ? check(n) : 'Enter a number.';
    if (problem) errors[field] = problem;
    return n;
  };

  const steps = number('steps', wholeAtLeast(1));
  const batchSize = number('batchSize', wholeAtLeast(1));
  const rate = (n: number) => (n > 0 ? null : 'The learning rate must be above 0.');
  // Only the rates on screen are read: DPO's (with β) for a DPO run, SFT's otherwise.
  const { lr, fullLr, beta } = dpo
    ? readDpo(number)
    : { lr: number('lr', rate), fullLr: number('fullLr', rate), beta: undefined };
  const seqLen = number(
    'seqLen',
    (n) =>
      wholeAtLeast(1)(n) ??
      (n <= model.maxSeqLen ? null : `This model takes at most ${model.maxSeqLen} tokens.`),
  );
  const evalEvery = number('evalEvery', wholeAtLeast(0));
  const r = number('loraR', wholeAtLeast(1));
  const alpha = number('loraAlpha', (n) => (n > 0 ? null : 'Alpha must be above 0.'));
  const dropout = number('loraDropout', (n) => (n >= 0 && n < 1 ? null : 'Dropout lies in [0, 1).'));
  // Blank is LoRA+ off; a number is B's rate ÷ A's.
  const loraPlusRatio =
    setup.fields.loraPlusRatio.trim() === ''
      ? undefined
      : number('loraPlusRatio', (n) => (n > 0 ? null : 'The LoRA+ ratio must be above 0, or blank for off.'));
  const virtualTokens =
    setup.preset === 'prompt' || setup.preset === 'prefix' ? number('numVirtualTokens', wholeAtLeast(1)) : 0;
  const reductionFactor =
    setup.preset === 'adapter'
      ? number('reductionFactor', (n) => (n > 0 ? null : 'The reduction factor must be above 0.'))
      : 0;
  const extras = readTrainingExtras(setup, number, taskOf(model) !== 'classification');
  if (Object.keys(errors).length > 0) return { ok: false, errors, message: 'Fix the highlighted settings.' };

  const train: TrainConfig = {
    ...studioTrainDefaults,
    ...extras,
    steps,
    batchSize,
    lr,
    seqLen,
    evalEvery,
    ...(beta === undefined
      ? {}
      : { preference: { beta, ...(setup.dpoLoss === 'sigmoid' ? {} : { lossType: setup.dpoLoss }) } }),
  };
  try {
    validateTrainConfig(train);
  } catch (error) {
    return { ok: false, errors, message: error instanceof Error ? error.message : String(error) };
  }
  const lora: LoraSpec = {
    method: 'lora',
    r,
    alpha,
    dropout,
    // Left out, the engine takes PEFT's default targets for the model's architecture.
    ...(setup.loraTargets === 'all-linear' ? { targetModules: 'all-linear' as const } : {}),
    ...(setup.useRslora ? { useRslora: true } : {}),
  };
  const chosen: MethodSpec =
    setup.preset === 'lora' || setup.preset === 'dora'
      ? { ...lora, method: setup.preset }
      : setup.preset === 'prompt' || setup.preset === 'prefix'
        ? { method: setup.preset, numVirtualTokens: virtualTokens }
        : setup.preset === 'adapter'
          ? { method: 'adapter', reductionFactor }
          : { method: setup.preset };
  return { ok: true, value: { train, fullLr, lora, chosen, ...(loraPlusRatio ? { loraPlusRatio } : {}) } };
}

export interface RunPlan {
  label: string;
  settings: RunSettings;
  spec: RunSpec;
}

interface FieldFailure {
  ok: false;
  errors: FieldErrors;
  message: string;
}

export type RunPlanning = { ok: true; plans: RunPlan[] } | FieldFailure;

/**
 * Steps between checkpoints: often enough that a lost device or a closed tab costs little (a quarter of
 * a short run at most), rarely enough for full fine-tuning, whose checkpoint holds the whole model three
 * times (weights and both AdamW moments) and goes to browser storage each time.
 */
export function checkpointInterval(method: MethodSpec, steps: number): number {
  const most = method.method === 'full' ? 100 : 20;
  return Math.max(1, Math.min(most, Math.ceil(steps / 4)));
}

/** The share of a dataset file's examples held out for validation (seeded, as the CLI's --validation-fraction). */
export const studioValidationFraction = 0.1;

interface PlannedData {
  spec: Pick<RunSpec, 'trainTexts' | 'validationTexts' | 'data'>;
  counts: Pick<RunSettings, 'trainExamples' | 'validationExamples' | 'validationHeldOut'>;
}

/**
 * Pasted texts split here (the last tenth held out); a library file goes to the worker as it is, with
 * the person's read settings, and is split there with the run's seed. Its counts are the examples
 * before tokenization (plain text read whole becomes rows of the sequence length in the worker).
 */
function plannedData(
  data: string[] | TrainingDataset,
  options: Pick<RunSetup, 'maskPrompt' | 'packing'>,
): PlannedData | null {
  const given: TrainingDataset = Array.isArray(data) ? { kind: 'texts', texts: data } : data;
  if (given.kind === 'texts') {
    if (given.texts.length === 0) return null;
    const split = splitValidation(given.texts);
    const asExamples = (texts: string[], from: number): Example[] =>
      texts.map((text, i) => ({ kind: 'text', line: from + i + 1, text }));
    return {
      // Packed pasted lines go through the data pipeline (which packs); otherwise each line is a row.
      spec: options.packing
        ? {
            data: {
              examples: asExamples(split.train, 0),
              validationExamples: asExamples(split.validation, split.heldOut ? split.train.length : 0),
              maskPrompt: options.maskPrompt,
              packing: true,
            },
          }
        : { trainTexts: split.train, validationTexts: split.validation },
      counts: {
        trainExamples: split.train.length,
        validationExamples: split.validation.length,
        validationHeldOut: split.heldOut,
      },
    };
  }
  if (given.examples === 0) return null;
  const n = given.examples;
  // splitTrainValidation's sizes: ceil(fraction × n), and at least one example left to train on.
  const held =
    given.settings.textMode === 'whole' ? 0 : Math.min(Math.ceil(studioValidationFraction * n), n - 1);
  const { schema, skipBadRows, textMode } = given.settings;
  return {
    spec: {
      data: {
        file: { blob: given.file, fileName: given.fileName, ...(schema ? { schema } : {}), skipBadRows },
        ...(textMode ? { textMode } : {}),
        validationFraction: studioValidationFraction,
        maskPrompt: options.maskPrompt,
        packing: options.packing,
      },
    },
    counts: { trainExamples: n - held, validationExamples: held, validationHeldOut: held > 0 },
  };
}

/** One run of the chosen preset, or "SFT vs LoRA": two runs with the same settings, each at its own rate. */
export function planRuns(
  kind: 'single' | 'sft-vs-lora',
  setup: RunSetup,
  model: StudioModel,
  /** Pasted texts (or the dataset as training takes it: texts, or a library file read in the worker). */
  data: string[] | TrainingDataset,
): RunPlanning {
  // An encoder trains a classifier on labelled rows; a decoder a language model on text (classification-setup.ts).
  const task = taskOf(model);
  const mismatch = taskDataProblem(task, data);
  if (mismatch) return { ok: false, errors: {}, message: mismatch };
  const dpo = trainsDpo(setup, data, task);
  // DPO scores each pair's responses whole, one row a side (as the CLI refuses --packing and
  // --no-mask-prompt for it), so its spec says so whatever the SFT switches are.
  const planned =
    task === 'classification' && !Array.isArray(data) && data.kind === 'file'
      ? classificationData(data, studioValidationFraction)
      : plannedData(data, dpo ? { maskPrompt: true, packing: false } : setup);
  if (!planned) return { ok: false, errors: {}, message: 'Add a dataset first: paste or drop text.' };
  const read = readSetup(setup, model, dpo);
  if (!read.ok) return read;
  const { train: peftTrain, fullLr, lora, chosen, loraPlusRatio } = read.value;
  const methods: MethodSpec[] = kind === 'sft-vs-lora' ? [{ method: 'full' }, lora] : [chosen];
  const modelFiles = model.files();
  const classifier = task === 'classification';
  const plans = methods.map((method) => {
    const loraPlus = loraPlusRatio && (method.method === 'lora' || method.method === 'dora');
    const train =
      method.method === 'full'
        ? { ...peftTrain, lr: fullLr }
        : loraPlus
          ? { ...peftTrain, loraPlusLrRatio: loraPlusRatio }
          : peftTrain;
    // Only a frozen base is quantized: full fine-tuning, and classifiers, train f32 weights.
    const quantization: 'nf4' | undefined =
      setup.quantizeBase && !classifier && method.method !== 'full' ? 'nf4' : undefined;
    const base = quantization ? { baseQuantization: quantization } : {};
    return {
      // A classifier's full run is fine-tuning with labels, and a DPO run's is not supervised: neither is "Full SFT".
      label: `${
        (classifier || dpo) && method.method === 'full'
          ? 'Full fine-tuning'
          : `${methodLabel(method, quantization)}${loraPlus ? `, LoRA+ ×${loraPlusRatio}` : ''}`
      }${dpo ? ` · ${dpoName(setup.dpoLoss)}` : ''}`,
      settings: {
        modelId: model.id,
        modelLabel: model.label,
        method,
        ...base,
        train,
        ...planned.counts,
        ...(classifier ? { task } : {}),
      },
      spec: {
        modelFiles,
        modelName: model.modelName,
        method,
        ...base,
        train,
        ...planned.spec,
        // Classifiers checkpoint and resume as language models do (classifier-checkpoint.ts).
        checkpointEvery: checkpointInterval(method, train.steps ?? studioTrainDefaults.steps ?? 30),
      },
    };
  });
  return { ok: true, plans };
}
