/**
 * `whetstone train --model DIR --data FILE --method full|lora|... --out DIR [flags]`: fine-tunes and
 * writes the result: a PEFT adapter folder (LoRA, DoRA, IA3), or a Hugging Face model folder (full). With --json,
 * one JSON line per step, one per evaluation, and a final summary line; nothing else on stdout.
 * Training data: any format and schema the app reads (dataset-flags.ts): the model's chat template,
 * prompt masking on unless --no-mask-prompt, --packing, --skip-bad-rows, --validation FILE or
 * --validation-fraction X (seeded by --seed). A {"text"} row is tokenized with EOS appended, as eval does.
 * --method adapter trains bottleneck adapters (--reduction-factor N, default 16) and writes Whetstone's
 * own adapter folder (whetstone_adapter_config.json + whetstone_adapter.safetensors), which PEFT lacks.
 * --method prefix trains prefix tuning (--num-virtual-tokens N, default 20; --prefix-projection with
 * --encoder-hidden-size N for PEFT's MLP reparameterisation). --grad-checkpointing recomputes each
 * layer's activations in the backward pass instead of keeping them.
 * --checkpoint-every N writes a checkpoint (trainable tensors, AdamW moments, step, data order) every N
 * steps to --checkpoint-dir (default: <out>-checkpoints), atomically (src/train/io/checkpoint-folder.ts);
 * --resume [DIR] continues from the latest one there with the same flags, exactly as if uninterrupted;
 * the checkpoint stores the method's settings (rank, alpha, dropout, targets, ...) and a resume with
 * other ones is refused by name. `--task classification` takes the same two flags (train-classifier.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchLength, type TokenExample } from '../train/batches';
import { checkResumable, trainingDataFingerprint } from '../train/checkpoint-resume';
import type { EarlyStoppingVerdict } from '../train/early-stopping';
import { trainedFiles } from '../train/export/trained-files';
import { readLatestCheckpoint, writeCheckpointFolder } from '../train/io/checkpoint-folder';
import type { DecoderConfig } from '../train/models/config';
import { rowTokenLimit } from '../train/models/row-limit';
import { DoraAdaptation } from '../train/peft/dora';
import { LoraAdaptation } from '../train/peft/lora';
import { methodSettingsOf } from '../train/plan/adaptation-settings';
import { PreferenceObjective } from '../train/preference/preference-objective';
import { defaultTrainConfig, type ScheduleKind, type TrainConfig } from '../train/train-config';
import { type StepMetrics, Trainer } from '../train/trainer';
import { adaptationFromFlags } from './adaptation-from-flags';
import {
  type CliTrainingData,
  dataReport,
  prepareCliTrainingData,
  readDatasetsFromFlags,
} from './dataset-flags';
import {
  type CliPreferenceData,
  dpoRateDivisor,
  pairSides,
  preferenceDataReport,
  preferenceFromFlags,
  preferenceReport,
  preferenceText,
  prepareCliPreferenceData,
  referenceProgressReporter,
} from './dpo-flags';
import { loadModelForCli, numberFlag } from './load-model';
import { loraPlusFromFlags } from './loraplus-flag';
import { memoryBudgetFromFlags, refuseRunThatDoesNotFit } from './plan';
import { quantizationFromFlags } from './quantize-flag';
import { CliUsageError } from './usage-error';

export type TrainFlags = Partial<Record<string, string | boolean>>;

const methods = ['full', 'lora', 'dora', 'ia3', 'prefix', 'prompt', 'adapter'] as const;

/**
 * `--resume` takes an optional DIR, which node's parseArgs cannot express: `--resume DIR` becomes
 * `--resume --checkpoint-dir DIR` before parsing (main.ts calls this for `train`).
 */
export function resumeArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if (arg === '--resume' && next !== undefined && !next.startsWith('--')) {
      out.push('--resume', '--checkpoint-dir', next);
      i++;
    } else if (arg.startsWith('--resume=')) {
      out.push('--resume', '--checkpoint-dir', arg.slice('--resume='.length));
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Where checkpoints go and how often; `every` 0 writes none. */
export function checkpointSettings(flags: TrainFlags, out: string) {
  const every = numberFlag(
    flags['checkpoint-every'],
    'checkpoint-every',
    0,
    (n) => Number.isInteger(n) && n > 0,
  );
  const dir =
    typeof flags['checkpoint-dir'] === 'string'
      ? flags['checkpoint-dir']
      : `${out.replace(/[\\/]+$/, '')}-checkpoints`;
  const resume = flags.resume === true;
  if (typeof flags['checkpoint-dir'] === 'string' && every === 0 && !resume)
    throw new CliUsageError('--checkpoint-dir DIR needs --checkpoint-every N (to write there) or --resume.');
  return { every, dir, resume };
}

function choice<T extends string>(value: unknown, name: string, options: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!options.includes(value as T))
    throw new CliUsageError(`--${name} must be one of ${options.join(', ')}.`);
  return value as T;
}

function trainConfigOf(flags: TrainFlags, method: string): TrainConfig {
  const int = (name: string, fallback: number, min = 1) =>
    numberFlag(flags[name], name, fallback, (n) => Number.isInteger(n) && n >= min);
  const real = (name: string, fallback: number) => numberFlag(flags[name], name, fallback, (n) => n >= 0);
  if (flags.steps !== undefined && flags.epochs !== undefined)
    throw new CliUsageError('Give --steps or --epochs, not both.');
  const steps = flags.steps === undefined ? undefined : int('steps', 1);
  const preference = preferenceFromFlags(flags);
  const sftRate = method === 'full' ? 5e-5 : method === 'prompt' ? 3e-2 : method === 'prefix' ? 1e-2 : 2e-4;
  return {
    ...defaultTrainConfig,
    ...preference,
    optimizer: choice(flags.optimizer, 'optimizer', ['adamw', 'sgd'] as const, 'adamw'),
    // Prompt tuning at PEFT's example rate (peft_prompt_tuning_clm): 2e-4 barely moves a prompt.
    lr: numberFlag(
      flags.lr,
      'lr',
      // Prefix tuning at PEFT's example rate (peft_prefix_tuning_clm), 1e-2.
      preference.preference ? sftRate / dpoRateDivisor : sftRate,
      (n) => n > 0,
    ),
    schedule: choice<ScheduleKind>(
      flags['lr-schedule'],
      'lr-schedule',
      ['constant', 'linear', 'cosine'],
      'linear',
    ),
    warmupSteps: int('warmup-steps', 0, 0),
    ...(steps === undefined ? {} : { steps }),
    epochs: int('epochs', 1),
    batchSize: int('batch-size', defaultTrainConfig.batchSize),
    gradAccum: int('grad-accum', 1),
    seqLen: int('seq-len', defaultTrainConfig.seqLen, 2),
    maxGradNorm: real('max-grad-norm', 1),
    weightDecay: real('weight-decay', 0),
    ...loraPlusFromFlags(flags),
    ...(flags['early-stopping-patience'] === undefined
      ? {}
      : { earlyStoppingPatience: int('early-stopping-patience', 1) }),
    seed: int('seed', defaultTrainConfig.seed, 0),
    shuffle: flags['no-shuffle'] !== true,
    evalEvery: int('eval-every', 0, 0),
    gradientCheckpointing: flags['grad-checkpointing'] === true,
    memoryBudgetBytes: memoryBudgetFromFlags(flags),
  };
}

/** Rows longer than the model allows (GPT-2's learned positions), refused with the fix. */
function refuseRowsPastTheLimit(
  model: DecoderConfig,
  examples: { train: TokenExample[]; validation: TokenExample[] },
  seqLen: number,
): void {
  const limit = rowTokenLimit(model);
  const rows = batchLength([...examples.train, ...examples.validation], seqLen);
  if (limit && rows > limit.tokens) {
    throw new CliUsageError(
      `Rows of ${rows} tokens pass ${limit.tokens}: ${limit.why}. Set --seq-len ${limit.tokens} or less.`,
    );
  }
}

export async function runTrain(flags: TrainFlags): Promise<number> {
  const method = choice(flags.method, 'method', methods, 'lora');
  if (typeof flags.data !== 'string') throw new CliUsageError('--data FILE is required.');
  if (typeof flags.out !== 'string') throw new CliUsageError('--out DIR is required.');
  const config = trainConfigOf(flags, method);
  const checkpoints = checkpointSettings(flags, flags.out);
  const datasets = await readDatasetsFromFlags(flags, true);
  let data: CliTrainingData | undefined;
  let pairs: CliPreferenceData | undefined;
  const quantization = quantizationFromFlags(flags, method);
  const { files, runtime, model } = await loadModelForCli(
    flags.model as string | undefined,
    undefined,
    method,
    {
      quantization,
      beforeUpload: (opened, device) => {
        const options = {
          seqLen: config.seqLen,
          eosTokenId: opened.generation.eosTokenIds[0],
          seed: config.seed,
        };
        // DPO's pairs run as two rows each: the row limit and the memory plan see both sides.
        if (config.preference) pairs = prepareCliPreferenceData(datasets, opened.tokenizer, options);
        else data = prepareCliTrainingData(datasets, opened.tokenizer, options);
        const rows = pairs ? pairSides(pairs) : (data as CliTrainingData);
        refuseRowsPastTheLimit(opened.checkpoint.config, rows, config.seqLen);
        // A run that will not fit is refused here, with what to change, before its weights are uploaded.
        const stepConfig = { ...config, batchSize: config.batchSize * (pairs ? 2 : 1) };
        refuseRunThatDoesNotFit(flags, stepConfig, opened.checkpoint.config, rows, device.device.limits);
      },
    },
  );
  const examples = pairs ? pairSides(pairs) : data;
  if (!examples) throw new Error('The training data was not prepared.');

  const adaptation = await adaptationFromFlags(flags, method, runtime, model, config.seed);
  const trainer = new Trainer(
    runtime,
    model,
    adaptation,
    config,
    pairs && config.preference ? new PreferenceObjective(pairs, config.preference) : examples.train,
    examples.validation,
  );
  const counts = trainer.parameterCounts();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const dataFingerprint = trainingDataFingerprint(examples.train);
  // The buffers' settings as the planner reads them back, with LoRA's scaling, which decides the updates.
  const lora =
    adaptation instanceof LoraAdaptation || adaptation instanceof DoraAdaptation
      ? adaptation.options
      : undefined;
  const methodSettings: Record<string, unknown> = {
    ...methodSettingsOf(adaptation, model),
    ...(lora ? { alpha: lora.alpha, useRslora: lora.useRslora ?? false } : {}),
    // The base the adapter learns against: a resume on another would not continue the same run.
    ...(quantization ? { baseQuantization: quantization } : {}),
  };
  if (checkpoints.resume) {
    const { folder, state } = readLatestCheckpoint(checkpoints.dir);
    checkResumable(state, { method: adaptation.method, config, dataFingerprint, methodSettings }, folder);
    trainer.resume(state);
    say(
      flags.json
        ? JSON.stringify({ resumed_from: folder, step: state.position.step })
        : `resuming from ${folder} (step ${state.position.step})`,
    );
  }
  if (!flags.json) {
    say(
      `${method}: ${counts.trainable.toLocaleString()} of ${counts.total.toLocaleString()} parameters train (${((100 * counts.trainable) / counts.total).toFixed(3)}%), ${trainer.totalSteps} steps`,
    );
  }
  let lastLoss = Number.NaN;
  let lastEval: number | undefined;
  let stepsRun = 0;
  let early: EarlyStoppingVerdict | undefined;
  const reference = referenceProgressReporter();
  for await (const event of trainer.run()) {
    if (event.kind === 'preparing') {
      reference(event);
    } else if (event.kind === 'step') {
      lastLoss = event.loss;
      stepsRun = event.step;
      if (flags.json) {
        say(JSON.stringify({ ...stepReport(event), ...preferenceReport(event.preference) }));
      } else {
        say(
          `step ${event.step}/${trainer.totalSteps}  loss ${event.loss.toFixed(4)}${preferenceText(event.preference)}  lr ${event.lr.toExponential(2)}  grad norm ${event.gradNorm.toFixed(3)}  ${event.tokensPerSecond.toFixed(0)} tok/s`,
        );
      }
      if (checkpoints.every > 0 && event.step % checkpoints.every === 0) {
        const folder = writeCheckpointFolder(checkpoints.dir, {
          ...(await trainer.checkpoint()),
          dataFingerprint,
          methodSettings,
        });
        say(flags.json ? JSON.stringify({ step: event.step, checkpoint: folder }) : `checkpoint: ${folder}`);
      }
    } else {
      lastEval = event.loss;
      early = event.earlyStopping;
      say(
        flags.json
          ? JSON.stringify({
              step: event.step,
              eval_loss: event.loss,
              eval_tokens: event.tokens,
              ...preferenceReport(event.preference, 'eval_'),
              ...(early ? { best_eval_loss: early.bestLoss, best_step: early.bestStep } : {}),
            })
          : `eval at step ${event.step}: loss ${event.loss.toFixed(4)}${preferenceText(event.preference)}${early ? ` (best ${early.bestLoss.toFixed(4)} at step ${early.bestStep})` : ''}`,
      );
      if (early?.stop && !flags.json)
        say(
          `stopped early: ${config.earlyStoppingPatience} evaluations without a lower loss; keeping step ${early.bestStep}'s weights`,
        );
    }
  }
  const baseModelName = typeof flags.model === 'string' ? flags.model : null;
  const written = await trainedFiles(runtime, model, adaptation, files, baseModelName);
  mkdirSync(flags.out, { recursive: true });
  for (const [name, content] of Object.entries(written)) writeFileSync(join(flags.out, name), content);
  const summary = {
    done: true,
    method,
    ...(config.preference
      ? {
          objective: 'dpo',
          dpo_beta: config.preference.beta,
          dpo_loss: config.preference.lossType ?? 'sigmoid',
        }
      : {}),
    steps: trainer.totalSteps,
    final_loss: lastLoss,
    eval_loss: lastEval ?? null,
    // With early stopping the saved weights are the best evaluation's, which may come before the last.
    ...(early
      ? {
          steps_run: stepsRun,
          stopped_early: early.stop,
          best_step: early.bestStep,
          best_eval_loss: early.bestLoss,
        }
      : {}),
    trainable_params: counts.trainable,
    total_params: counts.total,
    out: flags.out,
    ...(pairs ? preferenceDataReport(pairs) : dataReport(data as CliTrainingData)),
  };
  say(
    flags.json
      ? JSON.stringify(summary)
      : `wrote ${method === 'full' ? 'the model' : 'the adapter'} to ${flags.out}`,
  );
  return 0;
}

/** An update's --json line (decoder and classifier training print the same fields). */
export function stepReport(event: StepMetrics): Record<string, number> {
  return {
    step: event.step,
    loss: event.loss,
    lr: event.lr,
    grad_norm: event.gradNorm,
    tokens_per_second: event.tokensPerSecond,
    step_time_ms: event.stepTimeMs,
    gpu_bytes: event.gpuBytes,
    peak_gpu_bytes: event.peakGpuBytes,
    trainable_params: event.trainableParams,
    total_params: event.totalParams,
    trainable_percent: (100 * event.trainableParams) / event.totalParams,
  };
}
