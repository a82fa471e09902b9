/**
 * A LoRA adapter merged into its base model, as PEFT's merge_and_unload() then save_pretrained() give:
 * every targeted weight becomes W + s·B·A (s = alpha/r, or alpha/sqrt r with rsLoRA; transposed for
 * GPT-2's Conv1D), every other file is the base model's. Runs on the CPU in the page over the base
 * model's files (float32 out). DoRA and the other methods do not merge this way and are refused.
 */
import { zipSync } from 'fflate';
import { mergeLoraWeight } from '../../train/export/merge-lora';
import { parseSafetensorsHeader, toFloat32, writeSafetensors } from '../../train/io/safetensors';
import { safetensorsToTensors } from '../../train/peft/format/tensor-files';
import type { AdapterEntry } from '../state/adapter-store';
import { folderName } from './adapter-zip';

export class MergeError extends Error {
  override readonly name = 'MergeError';
}

export function mergedModelFiles(
  entry: AdapterEntry,
  baseFiles: Record<string, Uint8Array>,
): Record<string, Uint8Array> {
  const configBytes = entry.files['adapter_config.json'];
  if (entry.peftType !== 'LORA' || !configBytes)
    throw new MergeError(`Only LoRA adapters merge into their base weights; this one is ${entry.peftType}.`);
  const config = JSON.parse(new TextDecoder().decode(configBytes)) as {
    r: number;
    lora_alpha: number;
    use_rslora?: boolean;
    use_dora?: boolean;
    fan_in_fan_out?: boolean;
  };
  if (config.use_dora)
    throw new MergeError('DoRA adapters are not merged here; download the adapter instead.');
  const baseWeights = baseFiles['model.safetensors'];
  if (!baseWeights) throw new MergeError('The base model has no model.safetensors to merge into.');
  const scale = config.use_rslora ? config.lora_alpha / Math.sqrt(config.r) : config.lora_alpha / config.r;
  const lora = safetensorsToTensors(
    'adapter_model.safetensors',
    entry.files['adapter_model.safetensors'] ?? new Uint8Array(),
  );
  const base = parseSafetensorsHeader('model.safetensors', baseWeights);
  const byName = new Map(base.map((t) => [t.name, t]));
  const merged = new Map<string, Float32Array>();
  for (const [key, a] of lora) {
    const match = /^base_model\.model\.(.+)\.lora_A\.weight$/.exec(key);
    if (!match) continue;
    const path = match[1] as string;
    const b = lora.get(`base_model.model.${path}.lora_B.weight`);
    // GPT-2 checkpoints may or may not keep the "transformer." prefix.
    const weightName = [`${path}.weight`, `${path.replace(/^transformer\./, '')}.weight`].find((n) =>
      byName.has(n),
    );
    const weight = weightName ? byName.get(weightName) : undefined;
    if (!b || !weight || !weightName)
      throw new MergeError(
        `The base model has no weight for the adapter's ${path}: is this the right base model?`,
      );
    const r = a.shape[0] as number;
    const inFeatures = a.shape[1] as number;
    const outFeatures = b.shape[0] as number;
    const data = toFloat32(weight, baseWeights.subarray(weight.begin, weight.end), 'model.safetensors');
    merged.set(
      weightName,
      mergeLoraWeight(
        data,
        a.data,
        b.data,
        { out: outFeatures, in: inFeatures, r },
        scale,
        config.fan_in_fan_out ? 'in-out' : 'out-in',
      ),
    );
  }
  if (merged.size === 0) throw new MergeError('The adapter holds no LoRA weights to merge.');
  const tensors = base.map((t) => ({
    name: t.name,
    shape: t.shape,
    data: merged.get(t.name) ?? toFloat32(t, baseWeights.subarray(t.begin, t.end), 'model.safetensors'),
  }));
  return { ...baseFiles, 'model.safetensors': writeSafetensors(tensors, { format: 'pt' }) };
}

export function mergedModelZip(entry: AdapterEntry, baseFiles: Record<string, Uint8Array>): Uint8Array {
  const folder = `${folderName(entry)}-merged`;
  const files = mergedModelFiles(entry, baseFiles);
  return zipSync(
    Object.fromEntries(Object.entries(files).map(([name, data]) => [`${folder}/${name}`, data])),
    {
      level: 6,
    },
  );
}
