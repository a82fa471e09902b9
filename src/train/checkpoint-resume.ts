/**
 * Whether a checkpoint can continue this run: the same method, the same training data (by a fingerprint
 * of its token ids and labels) and every setting that decides the batches, masks and updates. Settings
 * that change neither (the memory budget, how often to evaluate, gradient checkpointing, which
 * recomputes the same activations) may differ. A mismatch is refused with `CheckpointError`, naming
 * each differing setting with its saved and current value, since continuing would silently give a run
 * that neither setting describes.
 */
import type { TokenExample } from './batches';
import { CheckpointError, type CheckpointState } from './checkpoint-state';
import type { TrainConfig } from './train-config';

const freeToChange = new Set<keyof TrainConfig>(['memoryBudgetBytes', 'evalEvery', 'gradientCheckpointing']);

/**
 * A 64-bit FNV-1a fingerprint (hex) of the 32-bit values `write` feeds to `mix`, in order: two 32-bit
 * lanes with different offsets. It guards against mistakes (other data), not attacks.
 */
export function dataFingerprint(write: (mix: (value: number) => void) => void): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  write((value) => {
    h1 = Math.imul(h1 ^ (value & 0xffff), 0x01000193) >>> 0;
    h1 = Math.imul(h1 ^ (value >>> 16), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ (value & 0xffff), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ ((value >>> 16) + 0x9e37), 0x01000193) >>> 0;
  });
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** The fingerprint of the examples' ids and labels, in order. */
export function trainingDataFingerprint(examples: readonly TokenExample[]): string {
  return dataFingerprint((mix) => {
    mix(examples.length);
    for (const e of examples) {
      mix(e.ids.length);
      for (const id of e.ids) mix(id);
      mix(e.labels ? e.labels.length : 0xffffffff);
      for (const label of e.labels ?? []) mix(label & 0xffffffff);
    }
  });
}

export function checkResumable(
  saved: CheckpointState,
  now: { method: string; config: TrainConfig; dataFingerprint: string },
  where: string,
): void {
  if (saved.method !== now.method)
    throw new CheckpointError(`${where} is a ${saved.method} run; this run is ${now.method}.`);
  if (saved.dataFingerprint !== undefined && saved.dataFingerprint !== now.dataFingerprint) {
    throw new CheckpointError(
      `${where} was trained on other data (or other data flags, --seq-len or tokenizer): resume with the same training file and flags.`,
    );
  }
  const keys = new Set([...Object.keys(saved.config), ...Object.keys(now.config)] as (keyof TrainConfig)[]);
  const differing = [...keys]
    .filter((key) => !freeToChange.has(key))
    .filter((key) => JSON.stringify(saved.config[key]) !== JSON.stringify(now.config[key]))
    .map(
      (key) =>
        `${key} (checkpoint ${JSON.stringify(saved.config[key])}, now ${JSON.stringify(now.config[key])})`,
    );
  if (differing.length > 0) {
    throw new CheckpointError(
      `${where} was written with other settings: ${differing.join('; ')}. Resume with the flags the run started with.`,
    );
  }
}
