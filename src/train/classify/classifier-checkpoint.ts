/**
 * Checkpoints of classification runs, in the decoder runs' format (checkpoint-state.ts): the trainable
 * tensors as `param:<name>` (the classification head included, whichever method trains it), AdamW's
 * moments as `exp_avg:<name>` / `exp_avg_sq:<name>`, and the position (updates done, epochs started, the
 * current epoch's unused micro-batches). Dropout masks and the optimizer's bias corrections follow the
 * update count (masks are seeded by the run's seed and the micro-batch number), so the position is the
 * whole of the run's random state: a resumed run gives the same batches, masks and updates.
 * A resume is refused (CheckpointError) when the method or its settings (the MethodSpec and the model's
 * dropout, classifierMethodSettings), the training rows or a setting that decides the updates differ
 * (checkpoint-resume.ts), since the result would follow neither run.
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor, type Tensor, writeTensor } from '../../gpu/tensor';
import { checkResumable, dataFingerprint } from '../checkpoint-resume';
import { CheckpointError, type CheckpointState, type TrainerPosition } from '../checkpoint-state';
import type { EncoderDropoutConfig } from '../models/bert-config';
import type { TrainableEntry } from '../peft/adaptation';
import type { TrainConfig } from '../train-config';
import type { MethodSpec } from '../worker/run-spec';
import type { ClassificationExample } from './classifier-trainer';

/** The optimizer's per-tensor moments (AdamW), in trainable order; empty for SGD. */
export interface SavedMoments {
  expAvg: Tensor;
  expAvgSq: Tensor;
}

export type CheckpointTensors = CheckpointState['tensors'];

/** What a checkpoint records of a classification run, and what a resume must match. */
export interface ClassifierRunIdentity {
  method: string;
  /** classifierMethodSettings of the run. */
  methodSettings: Record<string, unknown>;
  config: TrainConfig;
  train: readonly ClassificationExample[];
}

/**
 * The method's settings as a checkpoint stores them: the MethodSpec's own fields, and the model's dropout
 * rates (from config.json, or the CLI's --hidden-dropout / --attention-dropout), which draw the masks.
 */
export function classifierMethodSettings(
  method: MethodSpec,
  modelDropout: EncoderDropoutConfig,
): Record<string, unknown> {
  const { method: _name, ...settings } = method;
  return { ...settings, modelDropout: { ...modelDropout } };
}

/** The fingerprint (checkpoint-resume.ts) of the examples' ids, token types and labels, in order. */
export function classificationDataFingerprint(examples: readonly ClassificationExample[]): string {
  return dataFingerprint((mix) => {
    mix(examples.length);
    for (const e of examples) {
      mix(e.ids.length);
      for (const id of e.ids) mix(id);
      for (const type of e.tokenTypes) mix(type);
      mix(e.label);
    }
  });
}

/** The trainable tensors and their moments, downloaded (call between updates). */
export async function downloadTrainingTensors(
  runtime: Runtime,
  entries: readonly TrainableEntry[],
  moments: readonly SavedMoments[],
): Promise<CheckpointTensors> {
  const tensors: CheckpointTensors = new Map();
  const put = async (key: string, tensor: Tensor) =>
    tensors.set(key, { shape: [...tensor.shape], data: await downloadTensor(runtime.arena, tensor) });
  for (const entry of entries) await put(`param:${entry.name}`, entry.param);
  for (const [i, m] of moments.entries()) {
    const name = (entries[i] as TrainableEntry).name;
    await put(`exp_avg:${name}`, m.expAvg);
    await put(`exp_avg_sq:${name}`, m.expAvgSq);
  }
  return tensors;
}

/** Writes saved trainable tensors and moments back; every one must be there, at its size. */
export function uploadTrainingTensors(
  runtime: Runtime,
  entries: readonly TrainableEntry[],
  moments: readonly SavedMoments[],
  tensors: CheckpointTensors,
): void {
  const targets: [string, Tensor][] = entries.map((e) => [`param:${e.name}`, e.param]);
  for (const [i, m] of moments.entries()) {
    const name = (entries[i] as TrainableEntry).name;
    targets.push([`exp_avg:${name}`, m.expAvg], [`exp_avg_sq:${name}`, m.expAvgSq]);
  }
  // Every tensor is checked before any is written, so a refused checkpoint leaves the run as it was.
  for (const [key, tensor] of targets) {
    const saved = tensors.get(key);
    if (!saved || saved.data.length !== tensor.size)
      throw new CheckpointError(
        `The checkpoint has no ${key} of ${tensor.size} values: it is of another model or method. ` +
          'Start the run again from the beginning.',
      );
  }
  for (const [key, tensor] of targets)
    writeTensor(runtime.device, tensor, (tensors.get(key) as { data: Float32Array }).data);
}

/** Refuses a checkpoint of another method or method settings, other rows or other update-deciding settings. */
export function checkClassifierResumable(
  saved: CheckpointState,
  now: ClassifierRunIdentity,
  /** How the message names the checkpoint (the CLI gives its folder). */
  where = 'The checkpoint',
): void {
  checkResumable(
    saved,
    {
      method: now.method,
      methodSettings: now.methodSettings,
      config: now.config,
      dataFingerprint: classificationDataFingerprint(now.train),
    },
    where,
  );
}

/** A checkpoint of a classification run at `position`. */
export function classifierCheckpointState(
  tensors: CheckpointTensors,
  position: TrainerPosition,
  run: ClassifierRunIdentity,
): CheckpointState {
  return {
    position: structuredClone(position),
    config: run.config,
    method: run.method,
    methodSettings: run.methodSettings,
    dataFingerprint: classificationDataFingerprint(run.train),
    tensors,
  };
}
