/**
 * What the app talks to: one small interface over a training engine (the "Trainer" of the studio),
 * with a worker proxy for the app and an in-thread implementation for tests. Replies are matched to
 * requests by id; events go to every listener.
 */
import type { AdapterReport } from '../../gpu/device/adapter-report';
import type { ReplyTo, WorkerEvent, WorkerMessage, WorkerRequest } from './protocol';
import type { RunSpec } from './run-spec';

export interface RunStarted {
  totalSteps: number;
  trainableParams: number;
  totalParams: number;
}

export interface TrainingClient {
  probe(): Promise<AdapterReport>;
  startRun(runId: string, spec: RunSpec): Promise<RunStarted>;
  stopRun(runId: string): Promise<void>;
  onEvent(listener: (event: WorkerEvent) => void): () => void;
  dispose(): void;
}

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
export class MessageClient implements TrainingClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: WorkerEvent) => void>();

  constructor(
    private readonly send: (request: WorkerRequest, transfer: Transferable[]) => void,
    private readonly close: () => void = () => {},
  ) {}

  /** Feed every message from the engine here. */
  receive(message: WorkerMessage): void {
    const id = 'id' in message ? message.id : undefined;
    const waiting = id === undefined ? undefined : this.pending.get(id);
    if (waiting && id !== undefined) {
      this.pending.delete(id);
      if (message.kind === 'error') waiting.reject(new WorkerError(message.name, message.message));
      else waiting.resolve(message);
      return;
    }
    if (
      message.kind === 'progress' ||
      message.kind === 'eval' ||
      message.kind === 'run-finished' ||
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

  async stopRun(runId: string): Promise<void> {
    await this.request({ kind: 'stop-run', id: this.nextId++, runId });
  }

  onEvent(listener: (event: WorkerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    for (const waiting of this.pending.values()) waiting.reject(new Error('The training engine was closed.'));
    this.pending.clear();
    this.close();
  }
}

/** The app's trainer: everything runs in a dedicated worker, so the page never blocks. */
export function workerTrainer(worker: Worker): TrainingClient {
  const client = new MessageClient(
    (request, transfer) => worker.postMessage(request, transfer),
    () => worker.terminate(),
  );
  worker.onmessage = (event: MessageEvent<WorkerMessage>) => client.receive(event.data);
  worker.onerror = (event) => client.receive({ kind: 'error', name: 'WorkerError', message: event.message });
  return client;
}
