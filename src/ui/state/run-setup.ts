/**
 * The run setup form and what it turns into. The form keeps what was typed (strings, so "1e-" can be
 * typed on the way to "1e-3"); `planRuns` reads it into run plans (settings plus a RunSpec for the
 * worker) or into errors by field. Defaults live here once; presets override them.
 */
import { defaultTrainConfig, type TrainConfig, validateTrainConfig } from '../../train/train-config';
import type { MethodSpec, RunSpec } from '../../train/worker/run-spec';
import type { StudioModel } from '../models/model-catalogue';
import { splitValidation } from './read-dataset';
import type { RunSettings } from './run-record';

export type MethodPreset = 'full' | 'lora';
export type LoraTargets = 'q_proj,v_proj' | 'all-linear';

export interface SetupFields {
  steps: string;
  batchSize: string;
  lr: string;
  seqLen: string;
  evalEvery: string;
  loraR: string;
  loraAlpha: string;
  loraDropout: string;
}

export type SetupField = keyof SetupFields;

export interface RunSetup {
  modelId: string;
  preset: MethodPreset;
  loraTargets: LoraTargets;
  fields: SetupFields;
}

/** HF TrainingArguments' defaults, except where a short run on a small model wants otherwise. */
export const studioTrainDefaults: TrainConfig = {
  ...defaultTrainConfig,
  steps: 30,
  // A small model over few steps: a higher rate than the 2e-4 default shows learning within the run.
  lr: 1e-3,
  seqLen: 64,
  evalEvery: 10,
};

/** LoRA as most recipes start it: PEFT's default targets (q_proj, v_proj), alpha = 2r, light dropout. */
export const loraDefaults = { r: 8, alpha: 16, dropout: 0.05, targets: 'q_proj,v_proj' as LoraTargets };

export function defaultRunSetup(modelId: string): RunSetup {
  return {
    modelId,
    preset: 'lora',
    loraTargets: loraDefaults.targets,
    fields: {
      steps: String(studioTrainDefaults.steps),
      batchSize: String(studioTrainDefaults.batchSize),
      lr: String(studioTrainDefaults.lr),
      seqLen: String(studioTrainDefaults.seqLen),
      evalEvery: String(studioTrainDefaults.evalEvery),
      loraR: String(loraDefaults.r),
      loraAlpha: String(loraDefaults.alpha),
      loraDropout: String(loraDefaults.dropout),
    },
  };
}

export type FieldErrors = Partial<Record<SetupField, string>>;

interface ReadSetup {
  train: TrainConfig;
  lora: Extract<MethodSpec, { method: 'lora' }>;
}

function readSetup(setup: RunSetup, model: StudioModel): { ok: true; value: ReadSetup } | FieldFailure {
  const errors: FieldErrors = {};
  const number = (field: SetupField, check: (n: number) => string | null): number => {
    const raw = setup.fields[field].trim();
    const n = raw === '' ? Number.NaN : Number(raw);
    const problem = Number.isFinite(n) ? check(n) : 'Enter a number.';
    if (problem) errors[field] = problem;
    return n;
  };
  const wholeAtLeast = (min: number) => (n: number) =>
    Number.isInteger(n) && n >= min ? null : `Enter a whole number of at least ${min}.`;

  const steps = number('steps', wholeAtLeast(1));
  const batchSize = number('batchSize', wholeAtLeast(1));
  const lr = number('lr', (n) => (n > 0 ? null : 'The learning rate must be above 0.'));
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
  if (Object.keys(errors).length > 0) return { ok: false, errors, message: 'Fix the highlighted settings.' };

  const train = { ...studioTrainDefaults, steps, batchSize, lr, seqLen, evalEvery };
  try {
    validateTrainConfig(train);
  } catch (error) {
    return { ok: false, errors, message: error instanceof Error ? error.message : String(error) };
  }
  const targetModules = setup.loraTargets === 'all-linear' ? 'all-linear' : ['q_proj', 'v_proj'];
  return { ok: true, value: { train, lora: { method: 'lora', r, alpha, dropout, targetModules } } };
}

export function methodLabel(method: MethodSpec): string {
  return method.method === 'full' ? 'Full SFT' : `LoRA r${method.r}`;
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

/** One run of the chosen preset, or "SFT vs LoRA": two runs with the same training settings. */
export function planRuns(
  kind: 'single' | 'sft-vs-lora',
  setup: RunSetup,
  model: StudioModel,
  texts: string[],
): RunPlanning {
  if (texts.length === 0)
    return { ok: false, errors: {}, message: 'Add a dataset first: paste or drop text.' };
  const read = readSetup(setup, model);
  if (!read.ok) return read;
  const { train, lora } = read.value;
  const methods: MethodSpec[] =
    kind === 'sft-vs-lora'
      ? [{ method: 'full' }, lora]
      : [setup.preset === 'full' ? { method: 'full' } : lora];
  const split = splitValidation(texts);
  const modelFiles = model.files();
  const plans = methods.map((method) => ({
    label: methodLabel(method),
    settings: {
      modelId: model.id,
      modelLabel: model.label,
      method,
      train,
      trainExamples: split.train.length,
      validationExamples: split.validation.length,
      validationHeldOut: split.heldOut,
    },
    spec: {
      modelFiles,
      modelName: model.modelName,
      method,
      train,
      trainTexts: split.train,
      validationTexts: split.validation,
    },
  }));
  return { ok: true, plans };
}
