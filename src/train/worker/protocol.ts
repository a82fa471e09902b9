/**
 * The messages between the page and the training worker: a discriminated union keyed by `kind`.
 * Requests carry an `id`; each has exactly one reply kind, matched by that id, so nothing is cast.
 * Progress, evaluation and generated-token events are their own kinds, tagged with the run (or the
 * generate request) they belong to.
 */

import type { AdapterReport } from '../../gpu/device/adapter-report';
import type { CheckpointState } from '../checkpoint-state';
import type { EarlyStoppingVerdict } from '../early-stopping';
import type { PreferenceMetrics } from '../objective';
import type { RunSpec } from './run-spec';

export interface StepProgress {
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  stepTimeMs: number;
  gpuBytes: number;
  peakGpuBytes: number;
  trainableParams: number;
  totalParams: number;
  /** Milliseconds the run has spent training (time paused not counted), for charts against wall-clock time. */
  elapsedMs: number;
  /** DPO runs: the step's rewards and log-probabilities, as TRL logs them (rewards/*, logps/*). */
  preference?: PreferenceMetrics;
}

/** The same sampling settings go to every model of a playground comparison. */
export interface GenerationSettings {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  seed: number;
}

export interface PromptInput {
  text: string;
  /**
   * 'auto': as a user turn through the model's chat template when it has one (instruct models), else
   * the text as it is; 'none': always the text as it is.
   */
  template: 'auto' | 'none';
}

/**
 * What generates: a run of this worker (finished or stopped), a base model from its files, or a base
 * model with a kept adapter folder on it (opened once per `key`).
 */
export type GenerateTarget =
  | { kind: 'run'; runId: string }
  | { kind: 'base'; modelName: string; modelFiles: Record<string, Uint8Array> }
  | {
      kind: 'adapter';
      key: string;
      modelName: string;
      modelFiles: Record<string, Uint8Array>;
      adapterFiles: Record<string, Uint8Array>;
    };

/** Accuracy, F1 and the confusion matrix of a classification run's validation split at one evaluation. */
export interface ClassificationScores {
  accuracy: number;
  /** Binary F1 of class 1 for two classes, macro F1 for more (sklearn's definitions). */
  f1: number;
  f1Kind: 'binary' | 'macro';
  /** matrix[truth][prediction], in the order of `labels`. */
  confusion: number[][];
  /** The class names, in class-id order. */
  labels: string[];
  /** Validation rows scored. */
  count: number;
}

/** What the playground classifies: one text, or a sentence pair. */
export interface ClassifyInput {
  text: string;
  pair?: string;
}

/**
 * The validation split of a run, rebuilt from the run's own spec (same file, schema, seed, fraction,
 * sequence length and masking), so an imported adapter is scored on exactly the rows the run held out.
 */
export interface EvaluationData {
  /** The run this split belongs to (for the reply and the compare view). */
  runId: string;
  spec: Pick<RunSpec, 'modelName' | 'train' | 'data' | 'trainTexts' | 'validationTexts' | 'task'>;
}

export type WorkerRequest =
  | { kind: 'probe'; id: number }
  | { kind: 'start-run'; id: number; runId: string; spec: RunSpec }
  | { kind: 'stop-run'; id: number; runId: string }
  | { kind: 'pause-run'; id: number; runId: string }
  | { kind: 'resume-run'; id: number; runId: string }
  /** Frees an ended run's GPU memory (model, optimizer state); it cannot generate afterwards. */
  | { kind: 'release-run'; id: number; runId: string }
  | {
      kind: 'generate';
      id: number;
      target: GenerateTarget;
      prompt: PromptInput;
      settings: GenerationSettings;
    }
  /** Class probabilities of one text or pair from a classification run or a kept classifier adapter. */
  | { kind: 'classify'; id: number; target: GenerateTarget; input: ClassifyInput }
  /** Scores a model (a run, a base model, or a kept adapter) on a run's validation split. */
  | { kind: 'evaluate'; id: number; target: GenerateTarget; data: EvaluationData };

export interface RunStartedReply {
  kind: 'run-started';
  id: number;
  runId: string;
  totalSteps: number;
  trainableParams: number;
  totalParams: number;
}

export interface RunReleasedReply {
  kind: 'run-released';
  id: number;
  runId: string;
  /** GPU bytes given back, measured from the freed buffers' sizes (0 for a run released before). */
  freedBytes: number;
}

export interface GeneratedReply {
  kind: 'generated';
  id: number;
  text: string;
  /** New tokens generated. */
  tokens: number;
  promptTokens: number;
  /** True when the prompt went through the model's chat template. */
  templated: boolean;
  /** Milliseconds from the request to the last token, measured in the worker. */
  elapsedMs: number;
}

export interface ClassifiedReply {
  kind: 'classified';
  id: number;
  /** Class names in class-id order, and the softmax probability of each. */
  labels: string[];
  probabilities: number[];
  /** Milliseconds from the request to the reply, measured in the worker. */
  elapsedMs: number;
}

export interface EvaluatedReply {
  kind: 'evaluated';
  id: number;
  runId: string;
  /** Mean validation loss: per target token (language models), per row (classifiers), per pair (DPO). */
  loss: number;
  /** Validation examples (a DPO run's: pairs) scored. */
  examples: number;
  classification?: ClassificationScores;
  /** A DPO run's split: the model's rewards on its pairs, the base model as the reference (TRL's). */
  preference?: PreferenceMetrics;
}

export type ReplyTo<R extends WorkerRequest> = R extends { kind: 'probe' }
  ? { kind: 'probe-result'; id: number; report: AdapterReport }
  : R extends { kind: 'start-run' }
    ? RunStartedReply
    : R extends { kind: 'pause-run' }
      ? { kind: 'run-paused'; id: number; runId: string }
      : R extends { kind: 'resume-run' }
        ? { kind: 'run-resumed'; id: number; runId: string }
        : R extends { kind: 'generate' }
          ? GeneratedReply
          : R extends { kind: 'release-run' }
            ? RunReleasedReply
            : R extends { kind: 'classify' }
              ? ClassifiedReply
              : R extends { kind: 'evaluate' }
                ? EvaluatedReply
                : { kind: 'run-stopped'; id: number; runId: string };

export type WorkerReply = ReplyTo<WorkerRequest>;

export type WorkerEvent =
  | { kind: 'progress'; runId: string; progress: StepProgress }
  /** Before a DPO run's first step: its reference pass, `done` of `total` pairs scored. */
  | { kind: 'preparing'; runId: string; done: number; total: number }
  | {
      kind: 'eval';
      runId: string;
      step: number;
      loss: number;
      /** Classification runs only: the validation split's accuracy, F1 and confusion matrix. */
      classification?: ClassificationScores;
      /** DPO runs: the validation pairs' rewards (`loss` is then the mean DPO loss over the pairs). */
      preference?: PreferenceMetrics;
      /** Runs with early stopping: the best so far, and whether the run stops here. */
      earlyStopping?: EarlyStoppingVerdict;
    }
  | { kind: 'run-finished'; runId: string; files: Record<string, Uint8Array>; stopped: boolean }
  /** The run's state after `step`, sent every RunSpec.checkpointEvery steps. */
  | { kind: 'checkpoint'; runId: string; step: number; checkpoint: CheckpointState }
  /** One more token of the generate request `requestId`: the text so far and what it added. */
  | { kind: 'token'; requestId: number; text: string; delta: string }
  | { kind: 'error'; id?: number; runId?: string; name: string; message: string };

export type WorkerMessage = WorkerReply | WorkerEvent;
