/**
 * Reads a run config (run-config.ts) from parsed JSON, filling defaults and checking every field. A
 * mistake is a `RunConfigError` naming the field ("training.lr", "method.r") and what it must be; an
 * unknown field is a mistake too, so a typo ("learningRate") is not silently ignored. The training part
 * goes through `validateTrainConfig`, the same check the trainer makes. `training.preference` ({ "beta" },
 * β defaulting to TRL's 0.1) makes the run DPO, which refuses packing and unmasked prompts (dpo.ts).
 */
import type { DatasetFormat } from '../data/formats';
import type { PlainTextMode } from '../data/plain-text';
import { SCHEMA_FIELDS, type SchemaKind, type SchemaOverride } from '../data/schema';
import {
  type DpoLossType,
  defaultTrainConfig,
  dpoLossTypes,
  type TrainConfig,
  TrainConfigError,
  validateTrainConfig,
} from '../train-config';
import { defaultDpoBeta, refuseDpoDataSwitches } from './dpo';
import { RunConfigError } from './errors';
import {
  type BaseQuantization,
  baseQuantizations,
  dataDefaults,
  type JobMethod,
  jobMethodNames,
  methodDefaults,
  type RunConfig,
  type RunDataConfig,
  type TargetModulesSetting,
} from './run-config';

type Json = Record<string, unknown>;

const shown = (value: unknown) => (value === undefined ? 'nothing' : JSON.stringify(value));

function object(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RunConfigError(field, `must be an object, got ${shown(value)}.`);
  return value as Json;
}

function onlyKnown(json: Json, field: string, known: readonly string[]): void {
  for (const key of Object.keys(json)) {
    if (!known.includes(key))
      throw new RunConfigError(
        field ? `${field}.${key}` : key,
        `is not a field here; the fields are ${known.join(', ')}.`,
      );
  }
}

/** Readers for one object's fields, each naming `field.key` in its error. */
function fieldsOf(json: Json, field: string) {
  const at = (key: string) => (field ? `${field}.${key}` : key);
  const number = (key: string, fallback: number | undefined, check: (n: number) => boolean, what: string) => {
    const value = json[key];
    if (value === undefined) {
      if (fallback === undefined) throw new RunConfigError(at(key), `is required (${what}).`);
      return fallback;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || !check(value))
      throw new RunConfigError(at(key), `must be ${what}, got ${shown(value)}.`);
    return value;
  };
  return {
    at,
    has: (key: string) => json[key] !== undefined,
    int: (key: string, fallback: number | undefined, min: number) =>
      number(key, fallback, (n) => Number.isInteger(n) && n >= min, `a whole number of at least ${min}`),
    real: (key: string, fallback: number | undefined, check: (n: number) => boolean, what: string) =>
      number(key, fallback, check, what),
    bool(key: string, fallback: boolean): boolean {
      const value = json[key];
      if (value === undefined) return fallback;
      if (typeof value !== 'boolean')
        throw new RunConfigError(at(key), `must be true or false, got ${shown(value)}.`);
      return value;
    },
    string(key: string): string | undefined {
      const value = json[key];
      if (value === undefined) return undefined;
      if (typeof value !== 'string' || value.trim() === '')
        throw new RunConfigError(at(key), `must be a non-empty string, got ${shown(value)}.`);
      return value;
    },
    oneOf<T extends string>(key: string, options: readonly T[], fallback: T | undefined): T | undefined {
      const value = json[key];
      if (value === undefined) return fallback;
      if (!options.includes(value as T))
        throw new RunConfigError(at(key), `must be one of ${options.join(', ')}, got ${shown(value)}.`);
      return value as T;
    },
    strings(key: string): string[] | undefined {
      const value = json[key];
      if (value === undefined) return undefined;
      if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || !v))
        throw new RunConfigError(at(key), `must be a non-empty list of module names, got ${shown(value)}.`);
      return value as string[];
    },
  };
}

function targets(f: ReturnType<typeof fieldsOf>, json: Json, key: string): TargetModulesSetting | undefined {
  if (json[key] === 'all-linear') return 'all-linear';
  return f.strings(key);
}

function parseMethod(raw: unknown): JobMethod {
  const json = object(raw, 'method');
  const f = fieldsOf(json, 'method');
  const name = f.oneOf('method', jobMethodNames, undefined);
  if (name === undefined)
    throw new RunConfigError('method.method', `is required: one of ${jobMethodNames.join(', ')}.`);
  switch (name) {
    case 'full':
      onlyKnown(json, 'method', ['method']);
      return { method: 'full' };
    case 'lora':
    case 'dora': {
      onlyKnown(json, 'method', ['method', 'r', 'alpha', 'dropout', 'targetModules', 'useRslora', 'useDora']);
      const d = methodDefaults.lora;
      if (name === 'dora' && json.useDora === false)
        throw new RunConfigError('method.useDora', 'cannot be false with "method": "dora".');
      const targetModules = targets(f, json, 'targetModules');
      return {
        method: 'lora',
        r: f.int('r', d.r, 1),
        alpha: f.real('alpha', d.alpha, (n) => n > 0, 'a positive number'),
        dropout: f.real('dropout', d.dropout, (n) => n >= 0 && n < 1, 'a number in [0, 1)'),
        ...(targetModules ? { targetModules } : {}),
        useRslora: f.bool('useRslora', d.useRslora),
        useDora: name === 'dora' || f.bool('useDora', d.useDora),
      };
    }
    case 'ia3': {
      onlyKnown(json, 'method', ['method', 'targetModules', 'feedforwardModules']);
      const targetModules = targets(f, json, 'targetModules');
      const feedforwardModules = f.strings('feedforwardModules');
      return {
        method: 'ia3',
        ...(targetModules ? { targetModules } : {}),
        ...(feedforwardModules ? { feedforwardModules } : {}),
      };
    }
    case 'prompt':
      onlyKnown(json, 'method', ['method', 'numVirtualTokens']);
      return {
        method: 'prompt',
        numVirtualTokens: f.int('numVirtualTokens', methodDefaults.prompt.numVirtualTokens, 1),
      };
    case 'prefix': {
      onlyKnown(json, 'method', ['method', 'numVirtualTokens', 'prefixProjection', 'encoderHiddenSize']);
      const prefixProjection = f.bool('prefixProjection', methodDefaults.prefix.prefixProjection);
      if (f.has('encoderHiddenSize') && !prefixProjection)
        throw new RunConfigError(
          'method.encoderHiddenSize',
          'sizes the prefix projection MLP; set "prefixProjection": true or leave it out.',
        );
      return {
        method: 'prefix',
        numVirtualTokens: f.int('numVirtualTokens', methodDefaults.prefix.numVirtualTokens, 1),
        prefixProjection,
        ...(f.has('encoderHiddenSize')
          ? { encoderHiddenSize: f.int('encoderHiddenSize', undefined, 1) }
          : {}),
      };
    }
    default:
      onlyKnown(json, 'method', ['method', 'reductionFactor']);
      return {
        method: 'adapter',
        reductionFactor: f.real(
          'reductionFactor',
          methodDefaults.adapter.reductionFactor,
          (n) => n > 0,
          'positive',
        ),
      };
  }
}

// steps, loraPlusLrRatio, preference and earlyStoppingPatience have no default: absent, the run's length
// is its epochs, LoRA+ is off, the run is SFT and every step trains.
const trainingKeys = Object.keys(defaultTrainConfig).concat(
  'steps',
  'loraPlusLrRatio',
  'preference',
  'earlyStoppingPatience',
);

/**
 * DPO's setting: { "beta": β, "lossType": "sigmoid" | "hinge" | "ipo" }, β above 0 (TRL's default 0.1
 * when left out), the loss TRL's loss_type (sigmoid when left out).
 */
function parsePreference(raw: unknown): NonNullable<TrainConfig['preference']> {
  const json = object(raw, 'training.preference');
  onlyKnown(json, 'training.preference', ['beta', 'lossType']);
  const what = "a number above 0 (DPO's β, the pull towards the reference model; TRL's default is 0.1)";
  const beta = fieldsOf(json, 'training.preference').real('beta', defaultDpoBeta, (n) => n > 0, what);
  const lossType = json.lossType ?? 'sigmoid';
  if (!dpoLossTypes.includes(lossType as DpoLossType))
    throw new RunConfigError(
      'training.preference.lossType',
      `must be one of ${dpoLossTypes.join(', ')} (TRL's loss_type), got ${shown(lossType)}.`,
    );
  return { beta, ...(lossType === 'sigmoid' ? {} : { lossType: lossType as DpoLossType }) };
}

function parseTraining(raw: unknown): TrainConfig {
  const json = object(raw ?? {}, 'training');
  onlyKnown(json, 'training', trainingKeys);
  const f = fieldsOf(json, 'training');
  const d = defaultTrainConfig;
  if (f.has('steps') && f.has('epochs'))
    throw new RunConfigError('training.steps', 'give steps or epochs, not both.');
  const betas = json.betas ?? d.betas;
  if (
    !Array.isArray(betas) ||
    betas.length !== 2 ||
    betas.some((b) => typeof b !== 'number' || !(b >= 0 && b < 1))
  )
    throw new RunConfigError('training.betas', `must be two numbers in [0, 1), got ${shown(betas)}.`);
  const config: TrainConfig = {
    optimizer: f.oneOf('optimizer', ['adamw', 'sgd'] as const, d.optimizer) ?? d.optimizer,
    lr: f.real('lr', d.lr, (n) => n > 0, 'a positive number'),
    betas: [betas[0] as number, betas[1] as number],
    eps: f.real('eps', d.eps, (n) => n > 0, 'a positive number'),
    weightDecay: f.real('weightDecay', d.weightDecay, (n) => n >= 0, '0 or more'),
    ...(f.has('loraPlusLrRatio')
      ? { loraPlusLrRatio: f.real('loraPlusLrRatio', undefined, (n) => n > 0, 'a positive number') }
      : {}),
    ...(f.has('preference') ? { preference: parsePreference(json.preference) } : {}),
    maxGradNorm: f.real('maxGradNorm', d.maxGradNorm, (n) => n >= 0, '0 (off) or more'),
    schedule: f.oneOf('schedule', ['constant', 'linear', 'cosine'] as const, d.schedule) ?? d.schedule,
    warmupSteps: f.int('warmupSteps', d.warmupSteps, 0),
    ...(f.has('steps') ? { steps: f.int('steps', undefined, 1) } : {}),
    epochs: f.int('epochs', d.epochs, 1),
    batchSize: f.int('batchSize', d.batchSize, 1),
    gradAccum: f.int('gradAccum', d.gradAccum, 1),
    seqLen: f.int('seqLen', d.seqLen, 2),
    seed: f.int('seed', d.seed, 0),
    shuffle: f.bool('shuffle', d.shuffle),
    evalEvery: f.int('evalEvery', d.evalEvery, 0),
    ...(f.has('earlyStoppingPatience')
      ? { earlyStoppingPatience: f.int('earlyStoppingPatience', undefined, 1) }
      : {}),
    gradientCheckpointing: f.bool('gradientCheckpointing', d.gradientCheckpointing),
  };
  // Before validateTrainConfig, whose error would name only "training".
  if (config.earlyStoppingPatience !== undefined && config.evalEvery === 0)
    throw new RunConfigError(
      'training.earlyStoppingPatience',
      'early stopping compares evaluations during the run: set how often to evaluate (training.evalEvery, ' +
        'every N steps) as well.',
    );
  try {
    return validateTrainConfig(config);
  } catch (error) {
    if (error instanceof TrainConfigError) throw new RunConfigError('training', error.message);
    throw error;
  }
}

const formats: readonly DatasetFormat[] = ['jsonl', 'json', 'csv', 'tsv', 'parquet', 'text'];
const textModes: readonly PlainTextMode[] = ['blocks', 'lines', 'whole'];

function parseSchema(raw: unknown): SchemaOverride {
  const json = object(raw, 'data.schema');
  onlyKnown(json, 'data.schema', ['kind', 'columns']);
  const kinds = Object.keys(SCHEMA_FIELDS) as SchemaKind[];
  const kind = fieldsOf(json, 'data.schema').oneOf('kind', kinds, undefined);
  if (!kind) throw new RunConfigError('data.schema.kind', `is required: one of ${kinds.join(', ')}.`);
  if (json.columns === undefined) return { kind };
  const columns = object(json.columns, 'data.schema.columns');
  for (const [field, column] of Object.entries(columns)) {
    if (!(field in SCHEMA_FIELDS[kind]))
      throw new RunConfigError(
        `data.schema.columns.${field}`,
        `the ${kind} schema has no such field; its fields are ${Object.keys(SCHEMA_FIELDS[kind]).join(', ')}.`,
      );
    if (typeof column !== 'string' || !column)
      throw new RunConfigError(`data.schema.columns.${field}`, `must name a column, got ${shown(column)}.`);
  }
  return { kind, columns: columns as Record<string, string> };
}

function parseData(raw: unknown): RunDataConfig {
  const json = object(raw, 'data');
  onlyKnown(json, 'data', [
    'file',
    'format',
    'textMode',
    'schema',
    'skipBadRows',
    'maskPrompt',
    'packing',
    'validationFraction',
    'validationFile',
  ]);
  const f = fieldsOf(json, 'data');
  const file = f.string('file');
  if (!file) throw new RunConfigError('data.file', 'is required: the dataset file the run trained on.');
  const validationFile = f.string('validationFile');
  // runConfigJson writes the default share (0) beside a validation file, which must read back.
  if (validationFile && f.has('validationFraction') && json.validationFraction !== 0)
    throw new RunConfigError(
      'data.validationFraction',
      'give validationFraction or validationFile, not both.',
    );
  const format = f.oneOf('format', formats, undefined);
  const textMode = f.oneOf('textMode', textModes, undefined);
  return {
    file,
    ...(format ? { format } : {}),
    ...(textMode ? { textMode } : {}),
    ...(json.schema === undefined ? {} : { schema: parseSchema(json.schema) }),
    skipBadRows: f.bool('skipBadRows', dataDefaults.skipBadRows),
    maskPrompt: f.bool('maskPrompt', dataDefaults.maskPrompt),
    packing: f.bool('packing', dataDefaults.packing),
    validationFraction: f.real(
      'validationFraction',
      dataDefaults.validationFraction,
      (n) => n >= 0 && n < 1,
      'a share in [0, 1)',
    ),
    ...(validationFile ? { validationFile } : {}),
  };
}

function parseModel(raw: unknown): RunConfig['model'] {
  const model = object(raw, 'model');
  onlyKnown(model, 'model', ['id', 'revision', 'quantization']);
  const id = fieldsOf(model, 'model').string('id');
  if (!id)
    throw new RunConfigError('model.id', 'is required: a hub repo id or the name of a local model folder.');
  const revision = model.revision ?? null;
  if (revision !== null && (typeof revision !== 'string' || !revision))
    throw new RunConfigError(
      'model.revision',
      `must be a branch, tag or commit, or null; got ${shown(revision)}.`,
    );
  const quantization = model.quantization ?? null;
  if (quantization !== null && !baseQuantizations.includes(quantization as BaseQuantization))
    throw new RunConfigError(
      'model.quantization',
      `must be "nf4" (QLoRA's 4-bit NormalFloat base) or null (none); got ${shown(quantization)}.`,
    );
  return { id, revision, ...(quantization ? { quantization: quantization as BaseQuantization } : {}) };
}

/** A run config from parsed JSON, with defaults filled in; throws `RunConfigError` naming the field. */
export function parseRunConfig(raw: unknown): RunConfig {
  const json = object(raw, '');
  onlyKnown(json, '', ['model', 'method', 'training', 'data']);
  const model = parseModel(json.model);
  const method = parseMethod(json.method);
  if (model.quantization && method.method === 'full')
    throw new RunConfigError(
      'model.quantization',
      `full fine-tuning trains every weight, so its base cannot be quantized to ${model.quantization}; ` +
        'use a PEFT method (LoRA, DoRA, IA3, prompt or prefix tuning) or leave quantization out.',
    );
  const training = parseTraining(json.training);
  if (training.loraPlusLrRatio !== undefined && method.method !== 'lora')
    throw new RunConfigError(
      'training.loraPlusLrRatio',
      `LoRA+ sets the learning rate of LoRA's B matrices; this run trains ${method.method}, which has ` +
        'none. Leave it out, or train LoRA or DoRA.',
    );
  const data = parseData(json.data);
  refuseDpoDataSwitches({ training, data });
  if (training.earlyStoppingPatience !== undefined && data.validationFraction === 0 && !data.validationFile)
    throw new RunConfigError(
      'training.earlyStoppingPatience',
      'early stopping compares validation losses, and this run has no validation set: hold examples out ' +
        '(data.validationFraction) or give a data.validationFile.',
    );
  return { model, method, training, data };
}

/** parseRunConfig over JSON text; a syntax error is a RunConfigError too. */
export function parseRunConfigJson(text: string, source = 'the run config'): RunConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new RunConfigError('', `${source} is not valid JSON: ${(error as Error).message}`);
  }
  return parseRunConfig(raw);
}
