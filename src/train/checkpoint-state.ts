/**
 * A training checkpoint as files: `trainer_state.json` (the step, where the data order stands, the
 * settings) and `checkpoint.safetensors` (every trainable tensor and, for AdamW, its two moments).
 * Resuming from it continues exactly where the run stopped: the same batches, masks and updates.
 */
import { parseSafetensorsHeader, toFloat32, writeSafetensors } from './io/safetensors';
import type { TrainConfig } from './train-config';

export interface TrainerPosition {
  /** Optimizer steps done. */
  step: number;
  /** Epochs started. */
  epoch: number;
  /** Micro-batches of the current epoch not yet used, as example indices. */
  queue: number[][];
  /**
   * Classification runs: the row-weighted loss of the updates since the last epoch's end, so a resumed
   * run reports the same epoch losses (classifier-loop.ts). Absent in decoder runs and older checkpoints.
   */
  epochLoss?: { sum: number; rows: number };
  /** Early stopping's record (early-stopping.ts), in runs that use it. */
  earlyStopping?: EarlyStoppingPosition;
}

export interface EarlyStoppingPosition {
  /** The lowest validation loss so far (null before any evaluation: it goes through JSON), and the step it followed. */
  bestLoss: number | null;
  bestStep: number;
  evaluationsWithoutImprovement: number;
}

export interface CheckpointState {
  position: TrainerPosition;
  config: TrainConfig;
  method: string;
  /**
   * What the run trained on (the CLI's fingerprint of the token ids), so a resume on other data is
   * refused rather than silently continuing with a different order.
   */
  dataFingerprint?: string;
  /**
   * The method's own settings (LoRA's rank, alpha, dropout and targets, the number of virtual tokens,
   * ...) as plain JSON, so a resume with other ones is refused by name (checkpoint-resume.ts). Absent in
   * checkpoints written before it was stored; those resume without the check.
   */
  methodSettings?: Record<string, unknown>;
  /** Tensors by name: `param:<name>`, `exp_avg:<name>`, `exp_avg_sq:<name>`. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

export const trainerStateFile = 'trainer_state.json';
export const checkpointTensorsFile = 'checkpoint.safetensors';

export function checkpointFiles(state: CheckpointState): Record<string, Uint8Array> {
  const json = JSON.stringify(
    {
      position: state.position,
      config: state.config,
      method: state.method,
      ...(state.dataFingerprint === undefined ? {} : { dataFingerprint: state.dataFingerprint }),
      ...(state.methodSettings === undefined ? {} : { methodSettings: state.methodSettings }),
      version: 1,
    },
    null,
    2,
  );
  return {
    [trainerStateFile]: new TextEncoder().encode(json),
    [checkpointTensorsFile]: writeSafetensors(
      [...state.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })),
    ),
  };
}

export function readCheckpoint(files: Record<string, Uint8Array>): CheckpointState {
  const stateBytes = files[trainerStateFile];
  const tensorBytes = files[checkpointTensorsFile];
  if (!stateBytes || !tensorBytes)
    throw new CheckpointError(`A checkpoint needs ${trainerStateFile} and ${checkpointTensorsFile}.`);
  let json: Omit<CheckpointState, 'tensors'> & { version: number };
  try {
    json = JSON.parse(new TextDecoder().decode(stateBytes));
  } catch (error) {
    throw new CheckpointError(`${trainerStateFile} is not valid JSON: ${(error as Error).message}.`);
  }
  if (json.version !== 1) throw new CheckpointError(`Unknown checkpoint version ${json.version}.`);
  const settings = json.methodSettings;
  if (
    settings !== undefined &&
    (settings === null || typeof settings !== 'object' || Array.isArray(settings))
  )
    throw new CheckpointError(
      `${trainerStateFile}'s methodSettings must be an object of the method's settings.`,
    );
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const entry of parseSafetensorsHeader(checkpointTensorsFile, tensorBytes)) {
    tensors.set(entry.name, {
      shape: entry.shape,
      data: toFloat32(entry, tensorBytes.subarray(entry.begin, entry.end), checkpointTensorsFile),
    });
  }
  return {
    position: json.position,
    config: json.config,
    method: json.method,
    ...(json.dataFingerprint === undefined ? {} : { dataFingerprint: json.dataFingerprint }),
    ...(settings === undefined ? {} : { methodSettings: settings }),
    tensors,
  };
}
