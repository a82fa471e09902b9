/**
 * LoRA adapters to and from PEFT's folder format (peft/format/*): a trained `LoraAdaptation` becomes
 * adapter_config.json + adapter_model.safetensors that PeftModel.from_pretrained loads as-is, and a PEFT
 * LoRA folder becomes the starting weights and settings of a `LoraAdaptation` (to evaluate, generate or
 * continue training). DoRA is the same folder with "use_dora": true and one more tensor per layer,
 * `<module>.lora_magnitude_vector` [out]; it becomes a `DoraAdaptation`.
 * Module paths: ours are HF's without GPT-2's "transformer." prefix, which PEFT keeps.
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor, type Tensor } from '../../gpu/tensor';
import type { DecoderConfig } from '../models/config';
import type { DecoderModel } from '../models/decoder-step';
import { DoraAdaptation, type DoraStart } from '../peft/dora';
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
  lora: LoraAdaptation | DoraAdaptation,
  baseModelNameOrPath: string | null,
): Promise<WrittenAdapter> {
  const o = lora.options;
  const dora = lora instanceof DoraAdaptation;
  // A fresh DoRA adapter's magnitudes are computed on the GPU; they must be there before reading them.
  if (dora) await lora.ready();
  const config = loraAdapterConfig(model.config, {
    r: o.r,
    alpha: o.alpha,
    dropout: o.dropout ?? 0,
    targetModules: lora.targets === 'all-linear' ? 'all-linear' : lora.targets,
    useRslora: o.useRslora ?? false,
    useDora: dora,
    baseModelNameOrPath,
  });
  const tensors: AdapterTensors = new Map();
  const layers: ReadonlyMap<string, { a: Tensor; b: Tensor; magnitude?: Tensor }> = lora.weights();
  for (const [path, w] of layers) {
    const key = `${peftPrefix}${peftModulePath(model.config, path)}`;
    tensors.set(`${key}.lora_A.weight`, {
      shape: [...w.a.shape],
      data: await downloadTensor(runtime.arena, w.a),
    });
    tensors.set(`${key}.lora_B.weight`, {
      shape: [...w.b.shape],
      data: await downloadTensor(runtime.arena, w.b),
    });
    if (w.magnitude) {
      tensors.set(`${key}.lora_magnitude_vector`, {
        shape: [...w.magnitude.shape],
        data: await downloadTensor(runtime.arena, w.magnitude),
      });
    }
  }
  return writeAdapter({ config, tensors, model: model.config });
}

export class UnsupportedAdapterError extends Error {
  override readonly name = 'UnsupportedAdapterError';
}

/**
 * A PEFT LoRA folder as a LoraAdaptation on `model` (a DoraAdaptation when it has "use_dora": true),
 * its r, alpha and targets applying.
 */
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
  const initial = new Map<string, DoraStart>();
  for (const [key, tensor] of tensors) {
    const match = /^base_model\.model\.(.+)\.(lora_A\.weight|lora_B\.weight|lora_magnitude_vector)$/.exec(
      key,
    );
    if (!match) continue;
    const path = sitePathOf(model.config, match[1] as string);
    const entry = initial.get(path) ?? { a: new Float32Array(), b: new Float32Array() };
    if (match[2] === 'lora_A.weight') entry.a = tensor.data;
    else if (match[2] === 'lora_B.weight') entry.b = tensor.data;
    else entry.magnitude = tensor.data;
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
  // readAdapter has checked that a DoRA file holds every magnitude, so none is computed here.
  if (lora.useDora) return new DoraAdaptation(runtime, model, options, initial);
  return new LoraAdaptation(runtime, model, options, initial);
}
