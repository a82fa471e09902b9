/**
 * Whether a checkpoint can continue this run: the same method with the same settings of its own (LoRA's
 * rank, alpha, dropout, targets, ...; compared when the checkpoint stored them, which checkpoints written
 * before they were stored did not), the same training data (by a fingerprint of its token ids and labels)
 * and every setting that decides the batches, masks and updates. Settings
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

/** `name (checkpoint X, now Y)` for every key whose value differs between the two records. */
function differences(
  saved: Record<string, unknown>,
  now: Record<string, unknown>,
  keep = (_: string) => true,
) {
  const shown = (value: unknown) => (value === undefined ? 'unset' : JSON.stringify(value));
  return [...new Set([...Object.keys(saved), ...Object.keys(now)])]
    .filter(keep)
    .filter((key) => JSON.stringify(saved[key]) !== JSON.stringify(now[key]))
    .map((key) => `${key} (checkpoint ${shown(saved[key])}, now ${shown(now[key])})`);
}

export function checkResumable(
  saved: CheckpointState,
  now: {
    method: string;
    config: TrainConfig;
    dataFingerprint: string;
    /** The method's own settings (CheckpointState.methodSettings). */
    methodSettings?: Record<string, unknown>;
  },
  where: string,
): void {
  if (saved.method !== now.method)
    throw new CheckpointError(`${where} is a ${saved.method} run; this run is ${now.method}.`);
  // A checkpoint from before the settings were stored cannot be checked on them, and still resumes.
  if (saved.methodSettings !== undefined && now.methodSettings !== undefined) {
    const differing = differences(saved.methodSettings, now.methodSettings);
    if (differing.length > 0)
      throw new CheckpointError(
        `${where} was written with other ${now.method} settings: ${differing.join('; ')}. Resume with the method flags the run started with.`,
      );
  }
  if (saved.dataFingerprint !== undefined && saved.dataFingerprint !== now.dataFingerprint) {
    throw new CheckpointError(
      `${where} was trained on other data (or other data flags, --seq-len or tokenizer): resume with the same training file and flags.`,
    );
  }
  const differing = differences(
    saved.config as unknown as Record<string, unknown>,
    now.config as unknown as Record<string, unknown>,
    (key) => !freeToChange.has(key as keyof TrainConfig),
  );
  if (differing.length > 0) {
    throw new CheckpointError(
      `${where} was written with other settings: ${differing.join('; ')}. Resume with the flags the run started with.`,
    );
  }
}
