/**
 * The training worker's classifier requests, for handler.ts: `classify` (class probabilities of one text
 * or pair from a finished classification run, a base encoder classifier, or one with a kept adapter on
 * it, opened once per key and kept like the playground's text sources) and `evaluate` on a
 * classification run's split (loss, accuracy, F1 and the confusion matrix; a base model or adapter is
 * opened for the request and given back after). Every GPU step takes a device turn. A language model is
 * refused by name (TaskMismatchError), as is a request on a run that is still training.
 */
import type { Runtime } from '../../gpu/runtime';
import {
  type ClassifierScoring,
  openClassifierModel,
  scoreClassifierOnSplit,
} from '../classify/classifier-model';
import {
  assertEncoderClassifier,
  type ClassProbabilities,
  TaskMismatchError,
} from '../classify/classifier-target';
import type { DeviceTurns } from './device-turns';
import type { ClassifyInput, GenerateTarget, WorkerMessage, WorkerRequest } from './protocol';
import type { OpenedRun } from './run-engine';

/** A classifier to score, and to classify one input with; `release` frees its buffers. */
export type OpenedClassifier = ClassifierScoring & {
  classify(input: ClassifyInput): Promise<ClassProbabilities>;
  release(): number;
};

export type OpenClassifier = (
  runtime: Runtime,
  modelFiles: Record<string, Uint8Array>,
  modelName: string,
  adapterFiles?: Record<string, Uint8Array>,
) => Promise<OpenedClassifier>;

export interface ClassifyContext {
  post(message: WorkerMessage): void;
  runtime(): Promise<Runtime>;
  now(): number;
  /** Absent: classifier-model.ts's openClassifierModel. */
  openClassifier?: OpenClassifier;
  /** The run of this worker by id (a named error when there is none). */
  find(runId: string): { opened: OpenedRun; state: string };
  turns: DeviceTurns;
  /** The handler's error for a run that is still training. */
  stillTraining(what: string): Error;
}

type ModelTarget = Exclude<GenerateTarget, { kind: 'run' }>;

export function classifyRequests(ctx: ClassifyContext) {
  const openClassifier = ctx.openClassifier ?? openClassifierModel;
  /** Classifiers opened for the playground, by target key, kept for the next input. */
  const classifiers = new Map<string, Promise<OpenedClassifier>>();

  const open = async (target: ModelTarget) => {
    assertEncoderClassifier(target.modelFiles, target.modelName);
    const runtime = await ctx.runtime();
    return ctx.turns(() =>
      openClassifier(
        runtime,
        target.modelFiles,
        target.modelName,
        target.kind === 'adapter' ? target.adapterFiles : undefined,
      ),
    );
  };

  const endedRun = (runId: string, what: string) => {
    const run = ctx.find(runId);
    if (run.state !== 'ended') throw ctx.stillTraining(what);
    return run.opened;
  };

  async function classify(request: Extract<WorkerRequest, { kind: 'classify' }>): Promise<void> {
    const started = ctx.now();
    const { target, input } = request;
    let result: ClassProbabilities;
    if (target.kind === 'run') {
      const classifyRun = ctx.find(target.runId).opened.classify;
      if (!classifyRun)
        throw new TaskMismatchError(
          `Run ${target.runId} trains a language model; it generates text rather than classifying. Use generate instead of classify.`,
        );
      endedRun(target.runId, 'try');
      result = await ctx.turns(() => classifyRun(input));
    } else {
      assertEncoderClassifier(target.modelFiles, target.modelName);
      const key = target.kind === 'base' ? `base:${target.modelName}` : `adapter:${target.key}`;
      let opened = classifiers.get(key);
      if (!opened) {
        opened = open(target);
        classifiers.set(key, opened);
        opened.catch(() => classifiers.delete(key));
      }
      const classifier = await opened;
      result = await ctx.turns(() => classifier.classify(input));
    }
    ctx.post({ kind: 'classified', id: request.id, ...result, elapsedMs: ctx.now() - started });
  }

  async function evaluateClassifier(request: Extract<WorkerRequest, { kind: 'evaluate' }>): Promise<void> {
    const { target, data } = request;
    let score: Awaited<ReturnType<typeof scoreClassifierOnSplit>>;
    if (target.kind === 'run') {
      const scoring = endedRun(target.runId, 'score').classifierScoring?.();
      if (!scoring)
        throw new TaskMismatchError(
          `Run ${target.runId} trained a language model; it cannot be scored on a classification run's split.`,
        );
      score = await scoreClassifierOnSplit(scoring, data, ctx.turns);
    } else {
      const opened = await open(target);
      try {
        score = await scoreClassifierOnSplit(opened, data, ctx.turns);
      } finally {
        await ctx.turns(async () => opened.release());
      }
    }
    ctx.post({
      kind: 'evaluated',
      id: request.id,
      runId: data.runId,
      loss: score.loss,
      examples: score.examples,
      classification: score.classification,
    });
  }

  return { classify, evaluateClassifier };
}
