/**
 * Opens what a CLI command runs on: the model (a folder or a hub repo id) with its tokenizer, a GPU
 * runtime, the model on it, and optionally a PEFT LoRA, DoRA, IA3, prompt- or prefix-tuning adapter
 * folder applied to it, or a Whetstone bottleneck adapter folder (whetstone_adapter_config.json).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireDevice } from '../gpu/device/acquire-device';
import { createRuntime, type Runtime } from '../gpu/runtime';
import { bottleneckFromAdapter, isBottleneckAdapter } from '../train/export/bottleneck-adapter';
import { ia3FromAdapter, isIa3Adapter } from '../train/export/ia3-adapter';
import { loraFromAdapter } from '../train/export/lora-adapter';
import { isPrefixTuningAdapter, prefixTuningFromAdapter } from '../train/export/prefix-adapter';
import { isPromptTuningAdapter, promptTuningFromAdapter } from '../train/export/prompt-adapter';
import { type ModelBundle, openModelBundle } from '../train/io/model-bundle';
import { withBaseQuantization } from '../train/models/config';
import { createDecoderModel } from '../train/models/create-model';
import type { DecoderModel } from '../train/models/decoder-step';
import type { WeightUse } from '../train/models/weight-storage';
import { withSafetensorsWeights } from '../train/peft/format/pickled-adapter';
import type { LoraOptions } from '../train/peft/lora';
import { modelFilesFor } from './model-source';
import type { BaseQuantization } from './quantize-flag';
import { CliUsageError } from './usage-error';

export interface CliModelOptions {
  /** The frozen layer matrices quantized to NF4 (--quantize nf4; weight-storage.ts). */
  quantization?: BaseQuantization;
  /** Runs once the device is known and before any weight is uploaded (train's memory plan). */
  beforeUpload?: (bundle: ModelBundle, runtime: Runtime) => void;
}

export async function loadModelForCli(
  spec: string | undefined,
  adapter: string | undefined,
  /** What the model is for: its frozen weights may then stay in half precision (weight-storage.ts). */
  use: WeightUse,
  { quantization, beforeUpload }: CliModelOptions = {},
) {
  if (!spec)
    throw new CliUsageError('--model DIR is required: a folder in Hugging Face layout, or a hub repo id.');
  const files = await modelFilesFor(spec);
  const opened = await openModelBundle(files);
  const checkpoint = {
    ...opened.checkpoint,
    config: withBaseQuantization(opened.checkpoint.config, quantization),
  };
  const bundle: ModelBundle = { ...opened, checkpoint };
  const runtime = createRuntime(await acquireDevice({ label: 'whetstone-cli' }));
  beforeUpload?.(bundle, runtime);
  const model = await createDecoderModel(runtime, bundle.checkpoint, use);
  const adaptation = adapter ? await loadAdapter(runtime, model, adapter) : undefined;
  return { files, bundle, runtime, model, adaptation };
}

/** Reads an adapter folder's files into memory (an older PEFT's adapter_model.bin as safetensors). */
export async function readAdapterFolder(folder: string): Promise<Record<string, Uint8Array>> {
  if (!existsSync(folder)) throw new CliUsageError(`${folder} does not exist.`);
  const files: Record<string, Uint8Array> = {};
  for (const name of readdirSync(folder)) files[name] = readFileSync(join(folder, name));
  return withSafetensorsWeights(files);
}

export async function loadAdapter(
  runtime: Runtime,
  model: DecoderModel,
  folder: string,
  overrides: Partial<LoraOptions> = {},
) {
  const files = await readAdapterFolder(folder);
  // By the adapter's peft_type: IA3 here, LoRA (and the errors for anything else) in loraFromAdapter.
  if (isBottleneckAdapter(files)) return bottleneckFromAdapter(runtime, model, files);
  if (isIa3Adapter(files)) return ia3FromAdapter(runtime, model, files);
  if (isPromptTuningAdapter(files)) return promptTuningFromAdapter(runtime, model, files);
  if (isPrefixTuningAdapter(files)) return prefixTuningFromAdapter(runtime, model, files);
  return loraFromAdapter(runtime, model, files, overrides);
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
