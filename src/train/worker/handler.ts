/**
 * The training worker's message handler, with `post` injected so it runs under test without a worker.
 * Several runs share the one GPU device with fair turns: the scheduler takes one step of each active
 * run in turn, so SFT and LoRA advance side by side instead of one after the other.
 */
import type { Runtime } from '../../gpu/runtime';
import type { StepProgress, WorkerMessage, WorkerRequest } from './protocol';
import type { OpenedRun } from './run-engine';
import type { RunSpec } from './run-spec';

export interface HandlerDeps {
  post(message: WorkerMessage): void;
  runtime(): Promise<Runtime>;
  openRun(runtime: Runtime, spec: RunSpec, signal: AbortSignal): Promise<OpenedRun>;
  now(): number;
}

interface ActiveRun {
  runId: string;
  opened: OpenedRun;
  abort: AbortController;
  started: number;
}

const errorOf = (error: unknown) => {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, message: e.message };
};

export function createHandler(deps: HandlerDeps) {
  const active: ActiveRun[] = [];
  let turning = false;

  async function turn(run: ActiveRun): Promise<boolean> {
    try {
      const next = await run.opened.events.next();
      if (next.done) {
        deps.post({
          kind: 'run-finished',
          runId: run.runId,
          files: await run.opened.export(),
          stopped: run.abort.signal.aborted,
        });
        return false;
      }
      const event = next.value;
      if (event.kind === 'eval') {
        deps.post({ kind: 'eval', runId: run.runId, step: event.step, loss: event.loss });
      } else {
        const progress: StepProgress = {
          step: event.step,
          totalSteps: run.opened.trainer.totalSteps,
          loss: event.loss,
          lr: event.lr,
          gradNorm: event.gradNorm,
          tokensPerSecond: event.tokensPerSecond,
          stepTimeMs: event.stepTimeMs,
          gpuBytes: event.gpuBytes,
          peakGpuBytes: event.peakGpuBytes,
          trainableParams: event.trainableParams,
          totalParams: event.totalParams,
          elapsedMs: deps.now() - run.started,
        };
        deps.post({ kind: 'progress', runId: run.runId, progress });
      }
      return true;
    } catch (error) {
      deps.post({ kind: 'error', runId: run.runId, ...errorOf(error) });
      return false;
    }
  }

  /** Round-robin over the active runs until none is left. */
  async function schedule(): Promise<void> {
    if (turning) return;
    turning = true;
    try {
      while (active.length > 0) {
        const run = active.shift() as ActiveRun;
        if (await turn(run)) active.push(run);
      }
    } finally {
      turning = false;
    }
  }

  return async function handle(request: WorkerRequest): Promise<void> {
    try {
      switch (request.kind) {
        case 'probe': {
          const runtime = await deps.runtime();
          deps.post({ kind: 'probe-result', id: request.id, report: runtime.gpu.report });
          return;
        }
        case 'start-run': {
          const runtime = await deps.runtime();
          const abort = new AbortController();
          const opened = await deps.openRun(runtime, request.spec, abort.signal);
          const counts = opened.trainer.parameterCounts();
          deps.post({
            kind: 'run-started',
            id: request.id,
            runId: request.runId,
            totalSteps: opened.trainer.totalSteps,
            trainableParams: counts.trainable,
            totalParams: counts.total,
          });
          active.push({ runId: request.runId, opened, abort, started: deps.now() });
          void schedule();
          return;
        }
        case 'stop-run': {
          active.find((run) => run.runId === request.runId)?.abort.abort();
          deps.post({ kind: 'run-stopped', id: request.id, runId: request.runId });
          return;
        }
      }
    } catch (error) {
      deps.post({
        kind: 'error',
        id: request.id,
        ...('runId' in request ? { runId: request.runId } : {}),
        ...errorOf(error),
      });
    }
  };
}
