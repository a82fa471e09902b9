/**
 * The training worker's message handler, with `post` injected so it runs under test without a worker.
 * Several runs share the one GPU device with fair turns: the scheduler takes one step of each running
 * run in turn, so SFT and LoRA advance side by side instead of one after the other. A paused run keeps
 * its place (model, optimizer state, data position) and is skipped until resumed; a stopped run ends at
 * its next turn and still exports what it learned. Ended runs keep their models for the playground,
 * whose tokens take device turns between training steps, until the page releases them: a released run
 * gives its GPU memory back and is forgotten (a kept adapter is opened again from its files instead).
 * Steps and evaluations go to the page as they come, with a DPO run's rewards (`preference`) beside its loss.
 */
import type { Runtime } from '../../gpu/runtime';
import { isEncoderClassifierFiles, TaskMismatchError } from '../classify/classifier-target';
import { classifyRequests, type OpenClassifier } from './classify-requests';
import { type DeviceTurns, deviceTurns } from './device-turns';
import { type RunSplitScore, scoreRunSplit } from './evaluate-pairs-target';
import { EvaluationError, type ScoringModel } from './evaluate-target';
import type { StepProgress, WorkerMessage, WorkerRequest } from './protocol';
import type { OpenedRun } from './run-engine';
import type { RunSpec } from './run-spec';
import { GenerationError, type TextSource } from './text-source';

export interface HandlerDeps {
  post(message: WorkerMessage): void;
  runtime(): Promise<Runtime>;
  openRun(runtime: Runtime, spec: RunSpec, signal: AbortSignal): Promise<OpenedRun>;
  openBase?(runtime: Runtime, modelFiles: Record<string, Uint8Array>, modelName: string): Promise<TextSource>;
  openAdapter?(
    runtime: Runtime,
    modelFiles: Record<string, Uint8Array>,
    modelName: string,
    adapterFiles: Record<string, Uint8Array>,
  ): Promise<TextSource>;
  /** A base model, or one with a kept adapter on it, to score on a run's validation split. */
  openScoring?(
    runtime: Runtime,
    modelFiles: Record<string, Uint8Array>,
    modelName: string,
    adapterFiles?: Record<string, Uint8Array>,
  ): Promise<ScoringModel & { release(): number }>;
  /**
   * An encoder classifier (a base model, or one with a kept adapter on it), to classify with or score;
   * absent: classifier-model.ts's openClassifierModel.
   */
  openClassifier?: OpenClassifier;
  now(): number;
}

export class UnknownRunError extends Error {
  override readonly name = 'UnknownRunError';
}

export class RunStillActiveError extends Error {
  override readonly name = 'RunStillActiveError';
}

interface Run {
  runId: string;
  opened: OpenedRun;
  abort: AbortController;
  state: 'running' | 'paused' | 'ended';
  checkpointEvery: number;
  /** Training time so far, pauses excluded, and when the current stretch began. */
  trainedMs: number;
  since: number;
  /** The turn in flight (a step, and the checkpoint after it), which a pause waits out. */
  turning?: Promise<boolean>;
}

const errorOf = (error: unknown) => {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, message: e.message };
};

export function createHandler(deps: HandlerDeps) {
  const runs = new Map<string, Run>();
  /** Running runs in turn order. */
  const queue: Run[] = [];
  const turns: DeviceTurns = deviceTurns();
  const sources = new Map<string, Promise<TextSource>>();
  /** Runs whose memory was given back, so a late request gets a clear answer. */
  const released = new Set<string>();
  let scheduling = false;

  const elapsed = (run: Run) => run.trainedMs + (run.state === 'running' ? deps.now() - run.since : 0);

  async function turn(run: Run): Promise<boolean> {
    try {
      const next = await turns(() => run.opened.events.next());
      if (next.done) {
        run.trainedMs = elapsed(run);
        run.state = 'ended';
        const files = await turns(() => run.opened.export());
        deps.post({ kind: 'run-finished', runId: run.runId, files, stopped: run.abort.signal.aborted });
        return false;
      }
      const event = next.value;
      if (event.kind === 'preparing') {
        deps.post({ kind: 'preparing', runId: run.runId, done: event.done, total: event.total });
      } else if (event.kind === 'eval') {
        deps.post({
          kind: 'eval',
          runId: run.runId,
          step: event.step,
          loss: event.loss,
          ...('classification' in event && event.classification
            ? { classification: event.classification }
            : {}),
          ...('earlyStopping' in event && event.earlyStopping ? { earlyStopping: event.earlyStopping } : {}),
          ...('preference' in event && event.preference ? { preference: event.preference } : {}),
        });
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
          elapsedMs: elapsed(run),
          ...(event.preference ? { preference: event.preference } : {}),
        };
        deps.post({ kind: 'progress', runId: run.runId, progress });
        if (
          run.checkpointEvery > 0 &&
          event.step % run.checkpointEvery === 0 &&
          event.step < progress.totalSteps
        ) {
          const checkpoint = await turns(() => run.opened.checkpoint());
          deps.post({ kind: 'checkpoint', runId: run.runId, step: event.step, checkpoint });
        }
      }
      return true;
    } catch (error) {
      run.state = 'ended';
      deps.post({ kind: 'error', runId: run.runId, ...errorOf(error) });
      return false;
    }
  }

  /** Round-robin over the running runs until none is left running. */
  async function schedule(): Promise<void> {
    if (scheduling) return;
    scheduling = true;
    try {
      for (let run = queue.shift(); run; run = queue.shift()) {
        if (run.state !== 'running') continue;
        run.turning = turn(run);
        const more = await run.turning;
        run.turning = undefined;
        if (more && run.state === 'running') queue.push(run);
      }
    } finally {
      scheduling = false;
    }
  }

  const find = (runId: string) => {
    const run = runs.get(runId);
    if (!run && released.has(runId))
      throw new GenerationError(
        `Run ${runId} gave its GPU memory back when it left the comparison; try its adapter from the adapter library instead.`,
      );
    if (!run) throw new UnknownRunError(`There is no run ${runId} in this training worker.`);
    return run;
  };

  // classify requests, and evaluate requests on a classification run's split (classify-requests.ts).
  const { classify, evaluateClassifier } = classifyRequests({
    ...deps,
    find,
    turns,
    stillTraining: (what) =>
      new RunStillActiveError(`This run is still training: stop it or let it finish, then ${what} it.`),
  });

  async function source(request: Extract<WorkerRequest, { kind: 'generate' }>): Promise<TextSource> {
    const target = request.target;
    if (target.kind === 'run') {
      const run = find(target.runId);
      if (run.state !== 'ended')
        throw new GenerationError('This run is still training: stop it or let it finish, then try it.');
      return run.opened.text();
    }
    if (isEncoderClassifierFiles(target.modelFiles))
      throw new TaskMismatchError(
        `${target.modelName} is an encoder classifier: it gives class probabilities, not text. Use classify instead of generate.`,
      );
    // Base models and adapters open once (in a device turn) and stay for the next prompt.
    const key = target.kind === 'base' ? `base:${target.modelName}` : `adapter:${target.key}`;
    // The runtime first: two prompts that arrive together then find the one opening.
    const runtime = await deps.runtime();
    let opened = sources.get(key);
    if (!opened) {
      const { openBase, openAdapter } = deps;
      if (target.kind === 'base') {
        if (!openBase) throw new GenerationError('This worker cannot open base models.');
        opened = turns(() => openBase(runtime, target.modelFiles, target.modelName));
      } else {
        if (!openAdapter) throw new GenerationError('This worker cannot open adapters.');
        opened = turns(() => openAdapter(runtime, target.modelFiles, target.modelName, target.adapterFiles));
      }
      sources.set(key, opened);
      opened.catch(() => sources.delete(key));
    }
    return opened;
  }

  async function generate(request: Extract<WorkerRequest, { kind: 'generate' }>): Promise<void> {
    const started = deps.now();
    const text = await source(request);
    const prompt = text.promptIds(request.prompt);
    const stream = text.tokens(prompt.ids, request.settings);
    const ids: number[] = [];
    let sofar = '';
    for (;;) {
      // One token per device turn, so training steps go on between tokens.
      const next = await turns(() => stream.next());
      if (next.done) break;
      ids.push(next.value);
      const now = text.decode(ids);
      deps.post({ kind: 'token', requestId: request.id, text: now, delta: now.slice(sofar.length) });
      sofar = now;
    }
    deps.post({
      kind: 'generated',
      id: request.id,
      text: sofar,
      tokens: ids.length,
      promptTokens: prompt.ids.length,
      templated: prompt.templated,
      elapsedMs: deps.now() - started,
    });
  }

  /**
   * A run's validation loss (with a DPO run's rewards) for a model that did not train on it. A run of this
   * worker is scored as it stands; a base model or a kept adapter is opened for this request and given
   * back after, in turns.
   */
  async function evaluate(request: Extract<WorkerRequest, { kind: 'evaluate' }>): Promise<void> {
    if (request.data.spec.task === 'classification') return evaluateClassifier(request);
    const { target, data } = request;
    let score: RunSplitScore;
    if (target.kind === 'run') {
      const run = find(target.runId);
      if (run.state !== 'ended')
        throw new EvaluationError('This run is still training: stop it or let it finish, then score it.');
      const scoring = run.opened.scoring?.();
      if (!scoring) throw new EvaluationError(`Run ${target.runId} cannot be scored in this worker.`);
      score = await scoreRunSplit(scoring, data, turns);
    } else {
      const { openScoring } = deps;
      if (!openScoring) throw new EvaluationError('This worker cannot open models to score them.');
      const runtime = await deps.runtime();
      const opened = await turns(() =>
        openScoring(
          runtime,
          target.modelFiles,
          target.modelName,
          target.kind === 'adapter' ? target.adapterFiles : undefined,
        ),
      );
      try {
        score = await scoreRunSplit(opened, data, turns);
      } finally {
        await turns(async () => opened.release());
      }
    }
    deps.post({
      kind: 'evaluated',
      id: request.id,
      runId: data.runId,
      loss: score.loss,
      examples: score.examples,
      ...(score.preference ? { preference: score.preference } : {}),
    });
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
          const run: Run = {
            runId: request.runId,
            opened,
            abort,
            state: 'running',
            checkpointEvery: request.spec.checkpointEvery ?? 0,
            trainedMs: request.spec.elapsedMsBefore ?? 0,
            since: deps.now(),
          };
          runs.set(request.runId, run);
          queue.push(run);
          void schedule();
          return;
        }
        case 'pause-run': {
          const run = find(request.runId);
          if (run.state === 'running') {
            run.trainedMs = elapsed(run);
            run.state = 'paused';
          }
          // Paused means nothing more arrives: the step in flight, and its checkpoint, are sent first.
          await run.turning;
          deps.post({ kind: 'run-paused', id: request.id, runId: request.runId });
          return;
        }
        case 'resume-run': {
          const run = find(request.runId);
          if (run.state === 'paused') {
            run.state = 'running';
            run.since = deps.now();
            if (!queue.includes(run)) queue.push(run);
            void schedule();
          }
          deps.post({ kind: 'run-resumed', id: request.id, runId: request.runId });
          return;
        }
        case 'stop-run': {
          const run = runs.get(request.runId);
          if (run && run.state !== 'ended') {
            run.abort.abort();
            // A paused run ends too: its next turn sees the abort and exports what it learned.
            if (run.state === 'paused') {
              run.state = 'running';
              run.since = deps.now();
              if (!queue.includes(run)) queue.push(run);
              void schedule();
            }
          }
          deps.post({ kind: 'run-stopped', id: request.id, runId: request.runId });
          return;
        }
        case 'release-run': {
          const run = runs.get(request.runId);
          let freedBytes = 0;
          if (run) {
            if (run.state !== 'ended')
              throw new RunStillActiveError(
                `Run ${request.runId} is still training: stop it first, then remove it.`,
              );
            runs.delete(request.runId);
            released.add(request.runId);
            // In a device turn, so no token of the run's generator is being made while its buffers go.
            const runtime = await deps.runtime();
            freedBytes = await turns(async () => {
              const freed = run.opened.release();
              // With nothing training, the pool of reusable buffers goes back to the GPU as well.
              if (![...runs.values()].some((r) => r.state !== 'ended')) runtime.arena?.trim();
              return freed;
            });
          }
          deps.post({ kind: 'run-released', id: request.id, runId: request.runId, freedBytes });
          return;
        }
        case 'generate':
          await generate(request);
          return;
        case 'evaluate':
          await evaluate(request);
          return;
        case 'classify':
          await classify(request);
          return;
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
