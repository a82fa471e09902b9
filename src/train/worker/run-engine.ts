/**
 * One training run from a RunSpec: opens the model from its files, builds the method's adaptation,
 * tokenizes the examples with the model's tokenizer, trains, and exports the result (a PEFT adapter
 * folder for every PEFT method, a Hugging Face model folder for full fine-tuning). After training the
 * run still holds its model, so the playground can generate with it. Base models open the same way.
 * A spec with `train.preference` trains DPO on the dataset's preference pairs (PreferenceObjective),
 * planned and checked at two rows a pair.
 * The same engine serves the worker and in-thread use; it never touches the DOM.
 */
import type { Runtime } from '../../gpu/runtime';
import { batchLength, type TokenExample } from '../batches';
import type { CheckpointState } from '../checkpoint-state';
import type { ClassifierScoring } from '../classify/classifier-model';
import { openClassifierRun } from '../classify/classifier-run';
import type { ClassProbabilities } from '../classify/classifier-target';
import { type ModelBundle, openModelBundle } from '../io/model-bundle';
import { filesFromMemory } from '../io/model-files';
import { withBaseQuantization } from '../models/config';
import { createDecoderModel } from '../models/create-model';
import type { WeightUse } from '../models/weight-storage';
import type { PreparingEvent } from '../objective';
import { checkRunMemory } from '../plan/check-run';
import { pairSides } from '../preference/pairs';
import { PreferenceObjective } from '../preference/preference-objective';
import type { TrainConfig } from '../train-config';
import { type EvalEvent, type StepMetrics, Trainer } from '../trainer';
import type { ScoringModel } from './evaluate-target';
import { adaptationFromFiles, createAdaptation, trainedFiles } from './methods';
import type { ClassificationScores, ClassifyInput } from './protocol';
import { loadRunData, type RunExamples, type RunPairs, runExamples, runPairs } from './run-data';
import { runMemory } from './run-memory';
import type { RunSpec } from './run-spec';
import { type TextSource, textSource } from './text-source';

/**
 * A run's events: a classification run's eval events also carry accuracy, F1 and the confusion matrix;
 * a DPO run tells its reference pass before the first step.
 */
export type EngineEvent =
  | StepMetrics
  | (EvalEvent & { classification?: ClassificationScores })
  | PreparingEvent;

export interface OpenedRun {
  trainer: Pick<Trainer, 'totalSteps' | 'parameterCounts'>;
  events: AsyncGenerator<EngineEvent>;
  /** The trained result as files; call after the events end. */
  export(): Promise<Record<string, Uint8Array>>;
  /** The trained model, for the playground. */
  text(): TextSource;
  /** The run's state between steps, to resume from after a lost device. */
  checkpoint(): Promise<CheckpointState>;
  /**
   * Gives the run's GPU memory back (model, adaptation, optimizer state, generator); returns the bytes
   * freed. The run cannot train, export or generate afterwards.
   */
  release(): number;
  /** The trained model as it stands, to score on a validation split (src/train/worker/evaluate-target.ts). */
  scoring?(): ScoringModel;
  /** Classification runs only: class probabilities of one text or pair (src/train/classify/classifier-run.ts). */
  classify?(input: ClassifyInput): Promise<ClassProbabilities>;
  /** Classification runs only: the trained classifier, to score on a run's validation split. */
  classifierScoring?(): ClassifierScoring;
}

async function openModel<Prepared = undefined>(
  runtime: Runtime,
  modelFiles: Record<string, Uint8Array>,
  modelName: string,
  /** What the model is for: its frozen weights may then stay in half precision (weight-storage.ts). */
  use: WeightUse,
  /** Runs with the model's config and tokenizer, before any weight is uploaded. */
  beforeUpload?: (bundle: ModelBundle) => Prepared,
  /** The frozen layer matrices quantized to NF4 (RunSpec.baseQuantization). */
  quantization?: 'nf4',
) {
  const source = filesFromMemory(modelFiles, modelName);
  const opened: ModelBundle = await openModelBundle(source);
  const config = withBaseQuantization(opened.checkpoint.config, quantization);
  const bundle: ModelBundle = { ...opened, checkpoint: { ...opened.checkpoint, config } };
  const prepared = beforeUpload?.(bundle);
  const model = await createDecoderModel(runtime, bundle.checkpoint, use);
  return { source, bundle, model, prepared };
}

export async function openRun(shared: Runtime, given: RunSpec, signal: AbortSignal): Promise<OpenedRun> {
  if (given.baseQuantization && (given.task === 'classification' || given.method.method === 'full'))
    throw new Error(
      given.task === 'classification'
        ? 'An NF4 base applies to language models; classifiers load in f32.'
        : 'Full fine-tuning trains every weight in f32, so its base cannot be quantized to NF4.',
    );
  // Encoder classifiers have their own engine; it reads the dataset file itself.
  if (given.task === 'classification') return openClassifierRun(shared, given, signal);
  // A dataset file is read here, in the worker, so its examples never pass through the page.
  const spec = await loadRunData(given);
  // Every buffer of this run is tracked, so a finished run can give its memory back.
  const memory = runMemory(shared);
  const runtime = memory.runtime;
  try {
    // A run that will not fit is refused here, with what to change, before its weights reach the GPU.
    const opened = await openModel(
      runtime,
      spec.modelFiles,
      spec.modelName,
      spec.method.method,
      (bundle) => {
        const eos = bundle.generation.eosTokenIds[0];
        const data = spec.train.preference
          ? preferenceData(runPairs(spec, bundle.tokenizer, eos), spec.train, spec.train.preference)
          : tokenData(runExamples(spec, bundle.tokenizer, eos), spec.train);
        checkRunMemory(bundle.checkpoint.config, spec.method, data.planned, {
          T: batchLength(data.rows, spec.train.seqLen),
          evaluation: data.evaluation,
          limits: runtime.device.limits,
        });
        return data;
      },
      spec.baseQuantization,
    );
    const { source, bundle, model } = opened;
    const data = opened.prepared as RunData;
    const adaptation = await createAdaptation(runtime, model, spec.method, spec.train.seed);
    const trainer =
      data.kind === 'preference'
        ? new Trainer(runtime, model, adaptation, spec.train, data.objective)
        : new Trainer(runtime, model, adaptation, spec.train, data.examples.train, data.examples.validation);
    if (spec.resumeFrom) trainer.resume(spec.resumeFrom);
    let text: TextSource | undefined;
    return {
      trainer,
      events: trainer.run(signal),
      checkpoint: () => trainer.checkpoint(),
      export: () => trainedFiles(runtime, model, adaptation, source, spec.modelName),
      text: () => {
        text ??= textSource(runtime, model, bundle, adaptation);
        return text;
      },
      release: () => memory.release(),
      scoring: () => ({ runtime, model, bundle, adaptation }),
    };
  } catch (error) {
    // A refused or failed opening leaves nothing behind on the GPU.
    memory.release();
    throw error;
  }
}

/** A run's prepared data: what it trains on, and what the memory check plans with. */
type RunData = {
  /** Every row a step may hold, for the row length T. */
  rows: TokenExample[];
  evaluation: boolean;
  /** The training settings as planned: a DPO step holds two rows (chosen, rejected) per pair. */
  planned: TrainConfig;
} & ({ kind: 'tokens'; examples: RunExamples } | { kind: 'preference'; objective: PreferenceObjective });

function tokenData(examples: RunExamples, train: TrainConfig): RunData {
  return {
    kind: 'tokens',
    examples,
    rows: [...examples.train, ...examples.validation],
    evaluation: examples.validation.length > 0,
    planned: train,
  };
}

function preferenceData(
  pairs: RunPairs,
  train: TrainConfig,
  preference: NonNullable<TrainConfig['preference']>,
): RunData {
  return {
    kind: 'preference',
    objective: new PreferenceObjective(pairs, preference),
    rows: pairSides([...pairs.train, ...pairs.validation]),
    evaluation: pairs.validation.length > 0,
    planned: { ...train, batchSize: 2 * train.batchSize },
  };
}

/** A base model as loaded, for the playground's reference column. */
export async function openBaseModel(
  runtime: Runtime,
  modelFiles: Record<string, Uint8Array>,
  modelName: string,
): Promise<TextSource> {
  const { bundle, model } = await openModel(runtime, modelFiles, modelName, 'inference');
  return textSource(runtime, model, bundle);
}

/** A base model with a kept adapter on it, for the playground (adapters from the library). */
export async function openAdapterModel(
  runtime: Runtime,
  modelFiles: Record<string, Uint8Array>,
  modelName: string,
  adapterFiles: Record<string, Uint8Array>,
): Promise<TextSource> {
  const { bundle, model } = await openModel(runtime, modelFiles, modelName, 'inference');
  return textSource(runtime, model, bundle, adaptationFromFiles(runtime, model, adapterFiles));
}

/**
 * A base model, with a kept adapter on it when files are given, opened to be scored on a run's
 * validation split; `release` gives back every buffer it holds (weights and the planned step).
 */
export async function openScoringModel(
  shared: Runtime,
  modelFiles: Record<string, Uint8Array>,
  modelName: string,
  adapterFiles?: Record<string, Uint8Array>,
): Promise<ScoringModel & { release(): number }> {
  const memory = runMemory(shared);
  const runtime = memory.runtime;
  try {
    const { bundle, model } = await openModel(runtime, modelFiles, modelName, 'inference');
    const adaptation = adapterFiles ? adaptationFromFiles(runtime, model, adapterFiles) : undefined;
    return { runtime, model, bundle, ...(adaptation ? { adaptation } : {}), release: () => memory.release() };
  } catch (error) {
    memory.release();
    throw error;
  }
}
