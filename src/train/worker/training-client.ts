/**
 * What the app talks to: `StudioTrainer`, the one small interface over the training engine (the
 * studio's "Trainer"), with a worker proxy for the app (`workerTrainer`) and an in-thread
 * implementation for tests (`MessageClient` wired straight to `createHandler`). Replies are matched to
 * requests by id; run events go to every listener; generated tokens go to the request's own callback.
 * (The CLI and tests drive src/train/trainer.ts's `Trainer` class directly; this is its message face.)
 */
import type { AdapterReport } from '../../gpu/device/adapter-report';
import type {
  ClassifiedReply,
  ClassifyInput,
  EvaluatedReply,
  EvaluationData,
  GeneratedReply,
  GenerateTarget,
  GenerationSettings,
  PromptInput,
  ReplyTo,
  WorkerEvent,
  WorkerMessage,
  WorkerRequest,
} from './protocol';
import type { RunSpec } from './run-spec';

export interface RunStarted {
  totalSteps: number;
  trainableParams: number;
  totalParams: number;
}

export type Generated = Omit<GeneratedReply, 'kind' | 'id'>;

export type Evaluated = Omit<EvaluatedReply, 'kind' | 'id'>;

/** Class names in class-id order with the softmax probability of each, and the worker's time for it. */
export type Classified = Omit<ClassifiedReply, 'kind' | 'id'>;

/** Run events: everything but generated tokens, which go to their request's callback. */
export type RunEvent = Exclude<WorkerEvent, { kind: 'token' }>;

export interface StudioTrainer {
  probe(): Promise<AdapterReport>;
  startRun(runId: string, spec: RunSpec): Promise<RunStarted>;
  pauseRun(runId: string): Promise<void>;
  resumeRun(runId: string): Promise<void>;
  stopRun(runId: string): Promise<void>;
  /** Gives an ended run's GPU memory back; resolves to the bytes freed. */
  releaseRun(runId: string): Promise<number>;
  /** Streams text from a finished run or a base model; `onText` gets the whole text so far per token. */
  generate(
    target: GenerateTarget,
    prompt: PromptInput,
    settings: GenerationSettings,
    onText?: (text: string) => void,
  ): Promise<Generated>;
  /** Scores a run, a base model or a kept adapter on a run's validation split (rebuilt from its spec). */
  evaluate(target: GenerateTarget, data: EvaluationData): Promise<Evaluated>;
  /**
   * Class probabilities of one text or pair from a finished classification run, a base encoder classifier
   * or one with a kept adapter on it (opened once per key). A language model is refused (TaskMismatchError).
   */
  classify(target: GenerateTarget, input: ClassifyInput): Promise<Classified>;
  onEvent(listener: (event: RunEvent) => void): () => void;
  dispose(): void;
}

/** The first slice's name for the same interface. */
export type TrainingClient = StudioTrainer;

export class WorkerError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

type Pending = { resolve(reply: WorkerMessage): void; reject(error: Error): void };

/** Matches replies to requests and fans events out; the transport is given. */
export class MessageClient implements StudioTrainer {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: RunEvent) => void>();
  private readonly textListeners = new Map<number, (text: string) => void>();

  constructor(
    private readonly send: (request: WorkerRequest, transfer: Transferable[]) => void,
    private readonly close: () => void = () => {},
  ) {}

  /** Feed every message from the engine here. */
  receive(message: WorkerMessage): void {
    if (message.kind === 'token') {
      this.textListeners.get(message.requestId)?.(message.text);
      return;
    }
    const id = 'id' in message ? message.id : undefined;
    const waiting = id === undefined ? undefined : this.pending.get(id);
    if (waiting && id !== undefined) {
      this.pending.delete(id);
      this.textListeners.delete(id);
      if (message.kind === 'error') waiting.reject(new WorkerError(message.name, message.message));
      else waiting.resolve(message);
      return;
    }
    if (
      message.kind === 'progress' ||
      message.kind === 'preparing' ||
      message.kind === 'eval' ||
      message.kind === 'run-finished' ||
      message.kind === 'checkpoint' ||
      message.kind === 'error'
    ) {
      for (const listener of this.listeners) listener(message);
    }
  }

  private request<R extends WorkerRequest>(request: R, transfer: Transferable[] = []): Promise<ReplyTo<R>> {
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve: resolve as (reply: WorkerMessage) => void, reject });
      this.send(request, transfer);
    });
  }

  async probe(): Promise<AdapterReport> {
    return (await this.request({ kind: 'probe', id: this.nextId++ })).report;
  }

  async startRun(runId: string, spec: RunSpec): Promise<RunStarted> {
    const { totalSteps, trainableParams, totalParams } = await this.request({
      kind: 'start-run',
      id: this.nextId++,
      runId,
      spec,
    });
    return { totalSteps, trainableParams, totalParams };
  }

  async pauseRun(runId: string): Promise<void> {
    await this.request({ kind: 'pause-run', id: this.nextId++, runId });
  }

  async resumeRun(runId: string): Promise<void> {
    await this.request({ kind: 'resume-run', id: this.nextId++, runId });
  }

  async stopRun(runId: string): Promise<void> {
    await this.request({ kind: 'stop-run', id: this.nextId++, runId });
  }

  async releaseRun(runId: string): Promise<number> {
    return (await this.request({ kind: 'release-run', id: this.nextId++, runId })).freedBytes;
  }

  async generate(
    target: GenerateTarget,
    prompt: PromptInput,
    settings: GenerationSettings,
    onText?: (text: string) => void,
  ): Promise<Generated> {
    const id = this.nextId++;
    if (onText) this.textListeners.set(id, onText);
    const {
      kind: _kind,
      id: _id,
      ...generated
    } = await this.request({
      kind: 'generate',
      id,
      target,
      prompt,
      settings,
    });
    return generated;
  }

  async evaluate(target: GenerateTarget, data: EvaluationData): Promise<Evaluated> {
    const {
      kind: _kind,
      id: _id,
      ...evaluated
    } = await this.request({
      kind: 'evaluate',
      id: this.nextId++,
      target,
      data,
    });
    return evaluated;
  }

  async classify(target: GenerateTarget, input: ClassifyInput): Promise<Classified> {
    const {
      kind: _kind,
      id: _id,
      ...classified
    } = await this.request({ kind: 'classify', id: this.nextId++, target, input });
    return classified;
  }

  onEvent(listener: (event: RunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    for (const waiting of this.pending.values()) waiting.reject(new Error('The training engine was closed.'));
    this.pending.clear();
    this.textListeners.clear();
    this.close();
  }
}

/** The app's trainer: everything runs in a dedicated worker, so the page never blocks. */
export function workerTrainer(worker: Worker): StudioTrainer {
  const client = new MessageClient(
    (request, transfer) => worker.postMessage(request, transfer),
    () => worker.terminate(),
  );
  worker.onmessage = (event: MessageEvent<WorkerMessage>) => client.receive(event.data);
  worker.onerror = (event) => client.receive({ kind: 'error', name: 'WorkerError', message: event.message });
  return client;
}
