/**
 * LoRA adapters to and from PEFT's folder format (peft/format/*): a trained `LoraAdaptation` becomes
 * adapter_config.json + adapter_model.safetensors that PeftModel.from_pretrained loads as-is, and a PEFT
 * LoRA folder becomes the starting weights and settings of a `LoraAdaptation` (to evaluate, generate or
 * continue training). Module paths: ours are HF's without GPT-2's "transformer." prefix, which PEFT keeps.
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor } from '../../gpu/tensor';
import type { DecoderConfig } from '../models/config';
import type { DecoderModel } from '../models/decoder-step';
import { type LoraAdapterConfig, loraAdapterConfig } from '../peft/format/adapter-config';
import { readAdapter, type WrittenAdapter, writeAdapter } from '../peft/format/adapter-files';
import type { AdapterFolder, AdapterTensors } from '../peft/format/tensor-files';
import { LoraAdaptation, type LoraOptions } from '../peft/lora';

const peftPrefix = 'base_model.model.';

function peftModulePath(config: DecoderConfig, sitePath: string): string {
  return config.family === 'gpt2' ? `transformer.${sitePath}` : sitePath;
}

function sitePathOf(config: DecoderConfig, peftPath: string): string {
  return config.family === 'gpt2' ? peftPath.replace(/^transformer\./, '') : peftPath;
}

export async function loraAdapterFiles(
  runtime: Runtime,
  model: DecoderModel,
  lora: LoraAdaptation,
  baseModelNameOrPath: string | null,
): Promise<WrittenAdapter> {
  const o = lora.options;
  const config = loraAdapterConfig(model.config, {
    r: o.r,
    alpha: o.alpha,
    dropout: o.dropout ?? 0,
    targetModules: lora.targets === 'all-linear' ? 'all-linear' : lora.targets,
    useRslora: o.useRslora ?? false,
    baseModelNameOrPath,
  });
  const tensors: AdapterTensors = new Map();
  for (const [path, w] of lora.weights()) {
    const key = `${peftPrefix}${peftModulePath(model.config, path)}`;
    tensors.set(`${key}.lora_A.weight`, {
      shape: [...w.a.shape],
      data: await downloadTensor(runtime.arena, w.a),
    });
    tensors.set(`${key}.lora_B.weight`, {
      shape: [...w.b.shape],
      data: await downloadTensor(runtime.arena, w.b),
    });
  }
  return writeAdapter({ config, tensors, model: model.config });
}

export class UnsupportedAdapterError extends Error {
  override readonly name = 'UnsupportedAdapterError';
}

/** A PEFT LoRA folder as a LoraAdaptation on `model`, its r, alpha and targets applying. */
export function loraFromAdapter(
  runtime: Runtime,
  model: DecoderModel,
  files: AdapterFolder,
  overrides: Partial<LoraOptions> = {},
) {
  const { config, tensors } = readAdapter(files, model.config);
  if (config.peftType !== 'LORA') {
    throw new UnsupportedAdapterError(
      `This adapter is ${config.peftType}; only LoRA adapters can be imported so far.`,
    );
  }
  const lora = config as LoraAdapterConfig;
  if (lora.useDora)
    throw new UnsupportedAdapterError('This LoRA adapter uses DoRA, which Whetstone cannot run yet.');
  const initial = new Map<string, { a: Float32Array; b: Float32Array }>();
  for (const [key, tensor] of tensors) {
    const match = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/.exec(key);
    if (!match) continue;
    const path = sitePathOf(model.config, match[1] as string);
    const entry = initial.get(path) ?? { a: new Float32Array(), b: new Float32Array() };
    if (match[2] === 'A') entry.a = tensor.data;
    else entry.b = tensor.data;
    initial.set(path, entry);
  }
  const options: LoraOptions = {
    r: lora.r,
    alpha: lora.loraAlpha,
    dropout: lora.loraDropout,
    useRslora: lora.useRslora,
    // The adapter's own modules, by exact path, whatever pattern its config used to pick them.
    targetModules: [...initial.keys()],
    ...overrides,
  };
  return new LoraAdaptation(runtime, model, options, initial);
}
