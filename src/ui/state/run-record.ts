/**
 * A training run as the studio keeps it: its settings, its status, and its complete metric history,
 * exactly as the worker measured it. `applyEvent` folds one worker event into a record; it is pure, so
 * the slice and the tests share it. Records are plain data: they go to IndexedDB as they are. A DPO run's
 * steps and evaluations keep its rewards (`preference`); records from before DPO have none, and read as
 * they always did.
 */

import type { EarlyStoppingVerdict } from '../../train/early-stopping';
import type { PreferenceMetrics } from '../../train/objective';
import type { TrainConfig } from '../../train/train-config';
import type { ClassificationScores, StepProgress } from '../../train/worker/protocol';
import type { MethodSpec, RunTask } from '../../train/worker/run-spec';
import type { RunEvent } from '../../train/worker/training-client';

/** 'interrupted': the GPU device was lost mid-run (the tab slept, the driver reset). */
export type RunStatus = 'starting' | 'running' | 'paused' | 'finished' | 'stopped' | 'failed' | 'interrupted';

export interface RunSettings {
  modelId: string;
  modelLabel: string;
  method: MethodSpec;
  /** The frozen base's layer matrices were 4-bit NF4 (QLoRA); absent: as stored. */
  baseQuantization?: 'nf4';
  train: TrainConfig;
  trainExamples: number;
  validationExamples: number;
  /** False when the dataset was too small to hold rows out, so validation reuses training rows. */
  validationHeldOut: boolean;
  /** Absent: 'causal-lm'. A classification run's evaluations carry accuracy, F1 and a confusion matrix. */
  task?: RunTask;
}

/** A validation loss, placed on the time axis at the step it followed. */
export interface EvalPoint {
  step: number;
  loss: number;
  elapsedMs: number;
  /** Classification runs: the validation split's accuracy, F1 and confusion matrix at this step. */
  classification?: ClassificationScores;
  /** DPO runs: the validation pairs' rewards at this step (`loss` is the mean DPO loss). */
  preference?: PreferenceMetrics;
}

export interface RunError {
  name: string;
  message: string;
}

/** Anything thrown, as a run's error (a non-Error throw keeps its text under the name 'Error'). */
export const runErrorOf = (error: unknown): RunError =>
  error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };

export interface RunRecord {
  id: string;
  /** Runs started by one action ("SFT vs LoRA") share a group and are compared together. */
  groupId: string;
  /** Its place in the group (SFT before LoRA), kept because runs of a group share `createdAt`. */
  groupIndex: number;
  label: string;
  color: string;
  /** Date.now() when started. */
  createdAt: number;
  settings: RunSettings;
  status: RunStatus;
  totalSteps: number;
  trainableParams: number;
  totalParams: number;
  /** Every progress event, in order. */
  history: StepProgress[];
  evals: EvalPoint[];
  error: RunError | null;
  /** Names and sizes of the files the run produced (the bytes themselves are not persisted). */
  outputs: { name: string; bytes: number }[];
  /** The step of the latest checkpoint the worker sent (the checkpoint itself is in the runs slice). */
  checkpointStep?: number;
  /** Runs with early stopping: the latest evaluation's verdict (the best so far; whether it stopped). */
  earlyStopping?: EarlyStoppingVerdict;
  /** DPO runs before their first step: the reference pass, `done` of `total` pairs scored. */
  preparing?: { done: number; total: number };
}

/** Still in the worker and not ended (a paused run is active: it holds its place and its memory). */
export const isActive = (status: RunStatus) =>
  status === 'starting' || status === 'running' || status === 'paused';

export function lastProgress(record: RunRecord): StepProgress | undefined {
  return record.history[record.history.length - 1];
}

/** The record after one event of its run; events of other runs leave it as it is. */
export function applyEvent(record: RunRecord, event: RunEvent): RunRecord {
  if (event.kind === 'error') {
    if (event.runId !== undefined && event.runId !== record.id) return record;
    if (!isActive(record.status)) return record;
    // A lost device is not the run's fault: it can go on from its last checkpoint.
    const status = event.name === 'GpuDeviceLostError' ? 'interrupted' : 'failed';
    return { ...record, status, error: { name: event.name, message: event.message } };
  }
  if (event.runId !== record.id) return record;
  switch (event.kind) {
    case 'preparing':
      return { ...record, preparing: { done: event.done, total: event.total } };
    case 'progress': {
      // The first step ends the preparation.
      const { preparing: _, ...rest } = record;
      return {
        ...rest,
        status: record.status === 'starting' ? 'running' : record.status,
        totalSteps: event.progress.totalSteps,
        trainableParams: event.progress.trainableParams,
        totalParams: event.progress.totalParams,
        history: [...record.history, event.progress],
      };
    }
    case 'eval': {
      const atStep = record.history.find((p) => p.step === event.step);
      const elapsedMs = atStep?.elapsedMs ?? lastProgress(record)?.elapsedMs ?? 0;
      const point: EvalPoint = { step: event.step, loss: event.loss, elapsedMs };
      if (event.classification) point.classification = event.classification;
      if (event.preference) point.preference = event.preference;
      return {
        ...record,
        evals: [...record.evals, point],
        ...(event.earlyStopping ? { earlyStopping: event.earlyStopping } : {}),
      };
    }
    case 'checkpoint':
      return { ...record, checkpointStep: event.step };
    case 'run-finished':
      return {
        ...record,
        status: event.stopped ? 'stopped' : 'finished',
        outputs: Object.entries(event.files).map(([name, bytes]) => ({ name, bytes: bytes.byteLength })),
      };
  }
}
