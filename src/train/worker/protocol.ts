/**
 * The messages between the page and the training worker: a discriminated union keyed by `kind`.
 * Requests carry an `id`; each has exactly one reply kind, matched by that id, so nothing is cast.
 * Progress, evaluation and generated-token events are their own kinds, tagged with the run (or the
 * generate request) they belong to.
 */
import type { AdapterReport } from '../../gpu/device/adapter-report';
import type { CheckpointState } from '../checkpoint-state';
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
    };

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
            : { kind: 'run-stopped'; id: number; runId: string };

export type WorkerReply = ReplyTo<WorkerRequest>;

export type WorkerEvent =
  | { kind: 'progress'; runId: string; progress: StepProgress }
  | { kind: 'eval'; runId: string; step: number; loss: number }
  | { kind: 'run-finished'; runId: string; files: Record<string, Uint8Array>; stopped: boolean }
  /** The run's state after `step`, sent every RunSpec.checkpointEvery steps. */
  | { kind: 'checkpoint'; runId: string; step: number; checkpoint: CheckpointState }
  /** One more token of the generate request `requestId`: the text so far and what it added. */
  | { kind: 'token'; requestId: number; text: string; delta: string }
  | { kind: 'error'; id?: number; runId?: string; name: string; message: string };

export type WorkerMessage = WorkerReply | WorkerEvent;
