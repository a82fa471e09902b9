/**
 * `whetstone plan --model DIR|CONFIG --method M --batch-size N --seq-len N [--grad-checkpointing]
 *   [--lora-r R] [--target-modules a,b|all-linear] [--optimizer adamw|sgd] [--memory-budget SIZE]
 *   [--max-buffer-size SIZE] [--num-labels K] [--objective dpo] [--json]`: the memory plan of a training run, from
 * config.json alone (no GPU, no weights). The method flags are train's, with its defaults, so a plan
 * describes the run that `train` with the same flags would start; an encoder's config (BERT, DistilBERT,
 * RoBERTa) is planned as `train --task classification` runs it, with --num-labels classes (default 2). Without a GPU the per-buffer limit is WebGPU's default
 * (maxStorageBufferBindingSize 128 MiB) unless --max-buffer-size gives the device's.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { batchLength, type TokenExample } from '../train/batches';
import { encoderMethodSettings } from '../train/classify/classifier-memory';
import { maxEncoderTokens } from '../train/models/bert';
import { encoderArchitectureOf, parseEncoderConfig, untypedEncoderFields } from '../train/models/bert-config';
import { type DecoderConfig, parseModelConfig, withBaseQuantization } from '../train/models/config';
import { checkRunMemory } from '../train/plan/check-run';
import { planEncoderMemory } from '../train/plan/encoder-plan';
import { defaultMemoryBudgetBytes, formatBytes, type MemoryLimits } from '../train/plan/fit';
import { memoryComponents } from '../train/plan/ledger';
import { type MemoryPlan, planMemory } from '../train/plan/memory-plan';
import { type MethodSettings, methodNames, type StepSettings } from '../train/plan/method-settings';
import { defaultTrainConfig, type TrainConfig } from '../train/train-config';
import { classifierMethodSpec } from './classifier-method';
import { preferenceFromFlags } from './dpo-flags';
import { numberFlag } from './load-model';
import { quantizationFromFlags } from './quantize-flag';
import { CliUsageError } from './usage-error';

export type PlanFlags = Partial<Record<string, string | boolean>>;

/** WebGPU's default limits, for planning without a device. */
const webGpuDefaultLimits = { maxBufferSize: 256 * 2 ** 20, maxStorageBufferBindingSize: 128 * 2 ** 20 };

/** "4GiB", "512MiB", "8GB", "1e9": a byte count. */
export function parseByteSize(value: unknown, name: string): number {
  const match = typeof value === 'string' ? /^\s*([\d.e+]+)\s*([KMGT]i?B?|B)?\s*$/i.exec(value) : null;
  const n = match ? Number(match[1]) : Number.NaN;
  const unit = (match?.[2] ?? 'B').toUpperCase().replace(/B$/, '');
  const scale: Record<string, number> = {
    '': 1,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    KI: 2 ** 10,
    MI: 2 ** 20,
    GI: 2 ** 30,
    TI: 2 ** 40,
  };
  const bytes = n * (scale[unit] ?? Number.NaN);
  if (!(Number.isFinite(bytes) && bytes > 0))
    throw new CliUsageError(`--${name} ${String(value)} is not a size; write e.g. 8GiB, 512MiB or 4e9.`);
  return Math.floor(bytes);
}

function targetModules(flags: PlanFlags) {
  const value = flags['target-modules'];
  if (typeof value !== 'string') return {};
  return {
    targetModules: value === 'all-linear' ? ('all-linear' as const) : value.split(',').map((t) => t.trim()),
  };
}

/** The method's settings from train's flags, with train's defaults (r 8, 20 virtual tokens, factor 16). */
export function methodSettingsFromFlags(flags: PlanFlags, config: { C: number }): MethodSettings {
  const method = flags.method ?? 'lora';
  const int = (name: string, fallback: number) =>
    numberFlag(flags[name], name, fallback, (n) => Number.isInteger(n) && n > 0);
  switch (method) {
    case 'full':
      return { method: 'full' };
    case 'lora':
    case 'dora':
      return {
        method,
        r: int('lora-r', 8),
        dropout: numberFlag(flags['lora-dropout'], 'lora-dropout', 0, (n) => n >= 0 && n < 1),
        ...targetModules(flags),
      };
    case 'ia3':
      return { method: 'ia3', ...targetModules(flags) };
    case 'prompt':
      return { method: 'prompt', numVirtualTokens: int('num-virtual-tokens', 20) };
    case 'prefix':
      return {
        method: 'prefix',
        numVirtualTokens: int('num-virtual-tokens', 20),
        prefixProjection: flags['prefix-projection'] === true,
        ...(flags['encoder-hidden-size'] !== undefined
          ? { encoderHiddenSize: int('encoder-hidden-size', 1) }
          : {}),
      };
    case 'adapter':
      return {
        method: 'adapter',
        reductionFactor: numberFlag(
          flags['reduction-factor'],
          'reduction-factor',
          16,
          (n) => n > 0 && n <= config.C,
        ),
      };
    default:
      throw new CliUsageError(`--method must be one of ${methodNames.join(', ')}.`);
  }
}

export function stepSettingsFromFlags(flags: PlanFlags): StepSettings {
  const int = (name: string, fallback: number) =>
    numberFlag(flags[name], name, fallback, (n) => Number.isInteger(n) && n > 0);
  const optimizer = flags.optimizer ?? 'adamw';
  if (optimizer !== 'adamw' && optimizer !== 'sgd')
    throw new CliUsageError('--optimizer must be one of adamw, sgd.');
  return {
    batchSize: int('batch-size', defaultTrainConfig.batchSize),
    seqLen: int('seq-len', defaultTrainConfig.seqLen),
    gradAccum: int('grad-accum', 1),
    optimizer,
    gradientCheckpointing: flags['grad-checkpointing'] === true,
    evaluation: typeof flags.validation === 'string',
    // Early stopping keeps a copy of the trainable weights (early-stopping.ts).
    ...(flags['early-stopping-patience'] === undefined ? {} : { keepBestWeights: true }),
  };
}

/** The memory budget train and plan check against: --memory-budget, or the documented default. */
export function memoryBudgetFromFlags(flags: PlanFlags): number {
  return flags['memory-budget'] === undefined
    ? defaultMemoryBudgetBytes
    : parseByteSize(flags['memory-budget'], 'memory-budget');
}

function readConfigJson(spec: unknown): unknown {
  if (typeof spec !== 'string')
    throw new CliUsageError('--model DIR|CONFIG is required: a model folder or its config.json.');
  if (!existsSync(spec)) throw new CliUsageError(`--model ${spec}: no such folder or file.`);
  const file = statSync(spec).isDirectory() ? join(spec, 'config.json') : spec;
  if (!existsSync(file)) throw new CliUsageError(`--model ${spec}: the folder has no config.json.`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * An encoder classifier's plan, with `train --task classification`'s flags and defaults: method full,
 * batch 32, sequence length min(128, the model's positions), --num-labels classes (default 2).
 */
function encoderPlanFromFlags(
  flags: PlanFlags,
  raw: unknown,
  modelName: string,
): { architecture: string; plan: MemoryPlan } {
  const numLabels = numberFlag(flags['num-labels'], 'num-labels', 2, (n) => Number.isInteger(n) && n >= 2);
  const config = parseEncoderConfig(raw, numLabels, modelName);
  const int = (name: string, fallback: number) =>
    numberFlag(flags[name], name, fallback, (n) => Number.isInteger(n) && n > 0);
  const step = stepSettingsFromFlags(flags);
  const method = encoderMethodSettings(classifierMethodSpec(String(flags.method ?? 'full'), flags));
  const plan = planEncoderMemory(config, method, {
    ...step,
    batchSize: int('batch-size', 32),
    seqLen: int('seq-len', Math.min(128, maxEncoderTokens(config))),
    numLabels,
  });
  return { architecture: config.architecture, plan };
}

function planFromFlags(flags: PlanFlags): { architecture: string; plan: MemoryPlan; dpo?: boolean } {
  const raw = readConfigJson(flags.model);
  // A config without model_type (older BERT checkpoints) is named by its folder, as transformers does.
  const name = resolve(String(flags.model));
  const folderName = statSync(name).isDirectory() ? basename(name) : basename(dirname(name));
  if (encoderArchitectureOf(raw, folderName) || untypedEncoderFields(raw)) {
    if (flags.quantize !== undefined)
      throw new CliUsageError(
        '--quantize nf4 applies to decoder language models; encoder classifiers load in f32.',
      );
    if (flags.objective !== undefined)
      throw new CliUsageError('--objective applies to decoder language models; encoders train classifiers.');
    return encoderPlanFromFlags(flags, raw, folderName);
  }
  const parsed = parseModelConfig(raw);
  const method = methodSettingsFromFlags(flags, parsed);
  const config = withBaseQuantization(parsed, quantizationFromFlags(flags, method.method));
  // DPO runs each pair as two rows, the chosen and the rejected response.
  const dpo = preferenceFromFlags(flags).preference !== undefined;
  const step = stepSettingsFromFlags(flags);
  return {
    architecture: config.architecture,
    plan: planMemory(config, method, dpo ? { ...step, batchSize: 2 * step.batchSize } : step),
    ...(dpo ? { dpo } : {}),
  };
}

export function runPlan(flags: PlanFlags): number {
  const { architecture, plan, dpo } = planFromFlags(flags);
  const method = plan.settings.method;
  const perBuffer =
    flags['max-buffer-size'] === undefined
      ? undefined
      : parseByteSize(flags['max-buffer-size'], 'max-buffer-size');
  const limits: MemoryLimits = {
    ...(perBuffer
      ? { maxBufferSize: perBuffer, maxStorageBufferBindingSize: perBuffer }
      : webGpuDefaultLimits),
    memoryBudgetBytes: memoryBudgetFromFlags(flags),
  };
  const fit = plan.fits(limits);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (flags.json) {
    say(
      JSON.stringify({
        estimate: true,
        architecture,
        objective: dpo ? 'dpo' : 'sft',
        method: plan.settings.method,
        step: plan.settings.step,
        rows: plan.rows,
        components: plan.components,
        total_bytes: plan.totalBytes,
        largest_buffer: plan.largestBuffer,
        activation_bytes: {
          with_checkpointing: plan.activationBytes.withCheckpointing,
          without_checkpointing: plan.activationBytes.withoutCheckpointing,
        },
        parameters: plan.parameters,
        half_precision_weights: plan.halfWeights,
        nf4_weights: plan.quantizedWeights,
        notes: plan.notes ?? [],
        limits,
        limits_source: perBuffer ? 'flags' : 'webgpu-defaults',
        fits: fit.fits,
        problems: fit.problems,
        advice: fit.advice,
      }),
    );
    return 0;
  }
  say(
    `Memory plan (an estimate) for ${architecture}, ${method.method}${dpo ? ', DPO (each pair is two rows: chosen and rejected)' : ''}:`,
  );
  for (const k of memoryComponents) say(`  ${k.padEnd(12)} ${formatBytes(plan.components[k]).padStart(12)}`);
  say(`  ${'total'.padEnd(12)} ${formatBytes(plan.totalBytes).padStart(12)}`);
  say(`  largest buffer: ${plan.largestBuffer.label}, ${formatBytes(plan.largestBuffer.bytes)}`);
  say(
    `  trainable parameters: ${plan.parameters.trainable.toLocaleString()} of ${plan.parameters.total.toLocaleString()}`,
  );
  if (plan.quantizedWeights)
    say("  weights: the layers' frozen matrices load as NF4 (4.5 bits a weight, as QLoRA)");
  if (plan.halfWeights)
    say('  weights: the frozen matrices stay 16-bit, as the checkpoint stores them (half the bytes of f32)');
  for (const note of plan.notes ?? []) say(`  note: ${note}`);
  if (!perBuffer)
    say(
      `  per-buffer limit: WebGPU's default ${formatBytes(limits.maxStorageBufferBindingSize)}; ` +
        "give your GPU's with --max-buffer-size (see `whetstone info`)",
    );
  say(
    fit.fits
      ? `Fits: under ${formatBytes(limits.memoryBudgetBytes ?? defaultMemoryBudgetBytes)} and the per-buffer limit.`
      : `Does not fit: ${fit.problems.join('; ')}. To fit, ${fit.advice.join('; ')}.`,
  );
  return 0;
}

/**
 * train's refusal before the weights are uploaded: the plan of the run these flags start, on this
 * device, against --memory-budget. An --init-adapter run takes its method from the adapter, so only
 * the Trainer's own check (after loading) applies to it.
 */
export function refuseRunThatDoesNotFit(
  flags: PlanFlags,
  train: TrainConfig,
  model: DecoderConfig,
  examples: { train: TokenExample[]; validation: TokenExample[] },
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number },
): void {
  if (typeof flags['init-adapter'] === 'string') return;
  checkRunMemory(model, methodSettingsFromFlags(flags, model), train, {
    T: batchLength([...examples.train, ...examples.validation], train.seqLen),
    evaluation: examples.validation.length > 0,
    limits,
  });
}
