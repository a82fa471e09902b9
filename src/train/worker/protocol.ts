/**
 * The messages between the page and the training worker: a discriminated union keyed by `kind`.
 * Requests carry an `id`; each has exactly one reply kind, matched by that id, so nothing is cast.
 * Progress and evaluation events are their own kinds, tagged with the run they belong to.
 */
import type { AdapterReport } from '../../gpu/device/adapter-report';
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
  /** Milliseconds since the run started, for charts against wall-clock time. */
  elapsedMs: number;
}

export type WorkerRequest =
  | { kind: 'probe'; id: number }
  | { kind: 'start-run'; id: number; runId: string; spec: RunSpec }
  | { kind: 'stop-run'; id: number; runId: string };

export type ReplyTo<R extends WorkerRequest> = R extends { kind: 'probe' }
  ? { kind: 'probe-result'; id: number; report: AdapterReport }
  : R extends { kind: 'start-run' }
    ? {
        kind: 'run-started';
        id: number;
        runId: string;
        totalSteps: number;
        trainableParams: number;
        totalParams: number;
      }
    : { kind: 'run-stopped'; id: number; runId: string };

export type WorkerReply = ReplyTo<WorkerRequest>;

export type WorkerEvent =
  | { kind: 'progress'; runId: string; progress: StepProgress }
  | { kind: 'eval'; runId: string; step: number; loss: number }
  | { kind: 'run-finished'; runId: string; files: Record<string, Uint8Array>; stopped: boolean }
  | { kind: 'error'; id?: number; runId?: string; name: string; message: string };

export type WorkerMessage = WorkerReply | WorkerEvent;
