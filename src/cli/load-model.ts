/** Opens a model folder for a CLI command: the bundle, a GPU runtime and the model on it. */
import { acquireDevice } from '../gpu/device/acquire-device';
import { createRuntime } from '../gpu/runtime';
import { openModelBundle } from '../train/io/model-bundle';
import { createDecoderModel } from '../train/models/create-model';
import { modelFilesFor } from './model-source';
import { CliUsageError } from './usage-error';

export async function loadModelForCli(folder: string | undefined, adapter: string | undefined) {
  if (!folder)
    throw new CliUsageError('--model DIR is required: a folder in Hugging Face layout, or a hub repo id.');
  if (adapter) {
    throw new CliUsageError(
      '--adapter is not supported yet: adapters arrive with fine-tuning (LoRA and the other PEFT methods).',
    );
  }
  const bundle = await openModelBundle(await modelFilesFor(folder));
  const runtime = createRuntime(await acquireDevice({ label: 'whetstone-cli' }));
  const model = await createDecoderModel(runtime, bundle.checkpoint);
  return { bundle, runtime, model };
}

/** A numeric flag, checked. */
export function numberFlag(
  value: unknown,
  name: string,
  fallback: number,
  check: (n: number) => boolean,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || !check(n)) {
    throw new CliUsageError(`--${name} ${String(value)} is not valid.`);
  }
  return n;
}
