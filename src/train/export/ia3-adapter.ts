/**
 * IA3 adapters to and from PEFT's folder format (peft/format/*): a trained `Ia3Adaptation` becomes
 * adapter_config.json (peft_type "IA3", target_modules, feedforward_modules) + adapter_model.safetensors
 * with one `base_model.model.<module path>.ia3_l` per adapted layer ([OUT, 1]; feed-forward [1, IN]),
 * which PeftModel.from_pretrained loads as-is; and a PEFT IA3 folder becomes the starting vectors of an
 * `Ia3Adaptation` (to evaluate, generate or continue training). Module paths in the files are
 * transformers' (GPT-2's start "transformer."); ours lack GPT-2's prefix.
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor } from '../../gpu/tensor';
import type { DecoderConfig } from '../models/config';
import type { DecoderModel } from '../models/decoder-step';
import { ia3AdapterConfig } from '../peft/format/adapter-config';
import {
  adapterConfigFile,
  readAdapter,
  type WrittenAdapter,
  writeAdapter,
} from '../peft/format/adapter-files';
import { matchesFeedforward } from '../peft/format/adapter-keys';
import type { AdapterFolder, AdapterTensors } from '../peft/format/tensor-files';
import { Ia3Adaptation, peftModulePath } from '../peft/ia3';
import { UnsupportedAdapterError } from './lora-adapter';

const peftPrefix = 'base_model.model.';

function sitePathOf(config: DecoderConfig, peftPath: string): string {
  return config.family === 'gpt2' ? peftPath.replace(/^transformer\./, '') : peftPath;
}

export async function ia3AdapterFiles(
  runtime: Runtime,
  model: DecoderModel,
  ia3: Ia3Adaptation,
  baseModelNameOrPath: string | null,
): Promise<WrittenAdapter> {
  const config = ia3AdapterConfig(model.config, {
    targetModules: ia3.targets,
    feedforwardModules: ia3.feedforward,
    baseModelNameOrPath,
  });
  const tensors: AdapterTensors = new Map();
  for (const [path, v] of ia3.weights()) {
    tensors.set(`${peftPrefix}${peftModulePath(model.config, path)}.ia3_l`, {
      shape: [...v.l.shape],
      data: await downloadTensor(runtime.arena, v.l),
    });
  }
  // writeAdapter checks every key and shape against what PEFT expects for this config on this model.
  return writeAdapter({ config, tensors, model: model.config });
}

/** Whether a folder holds a PEFT IA3 adapter; false when its config cannot be read (say so elsewhere). */
export function isIa3Adapter(files: AdapterFolder): boolean {
  const file = files[adapterConfigFile];
  if (file === undefined) return false;
  try {
    const text = typeof file === 'string' ? file : new TextDecoder().decode(file);
    return (JSON.parse(text) as { peft_type?: unknown }).peft_type === 'IA3';
  } catch {
    return false;
  }
}

/** A PEFT IA3 folder as an Ia3Adaptation on `model`: its vectors, on exactly the modules it adapts. */
export function ia3FromAdapter(runtime: Runtime, model: DecoderModel, files: AdapterFolder): Ia3Adaptation {
  const { config, tensors } = readAdapter(files, model.config);
  if (config.peftType !== 'IA3') {
    throw new UnsupportedAdapterError(`This adapter is ${config.peftType}, not IA3.`);
  }
  const initial = new Map<string, Float32Array>();
  const targets: string[] = [];
  const feedforward: string[] = [];
  for (const [key, tensor] of tensors) {
    const match = /^base_model\.model\.(.+)\.ia3_l$/.exec(key);
    if (!match) continue;
    const path = match[1] as string;
    initial.set(sitePathOf(model.config, path), tensor.data);
    // The adapter's own modules, by exact path, whatever patterns its config used to pick them;
    // readAdapter has checked each vector's shape against its config's feed-forward modules.
    targets.push(path);
    if (matchesFeedforward(config.feedforwardModules, path)) feedforward.push(path);
  }
  return new Ia3Adaptation(
    runtime,
    model,
    { targetModules: targets, feedforwardModules: feedforward },
    initial,
  );
}
