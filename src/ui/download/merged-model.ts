/**
 * A LoRA adapter merged into its base model, as PEFT's merge_and_unload() then save_pretrained() give:
 * every targeted weight becomes W + s·B·A (s = alpha/r, or alpha/sqrt r with rsLoRA; transposed for
 * GPT-2's Conv1D), every other file is the base model's. Runs on the CPU in the page over the base
 * model's files (float32 out). The base weights may be safetensors (one file or shards) or
 * pytorch_model.bin; the merged model is always one model.safetensors. DoRA and the other methods do not
 * merge this way and are refused.
 */
import { zipSync } from 'fflate';
import { mergeLoraWeight } from '../../train/export/merge-lora';
import { filesFromMemory } from '../../train/io/model-files';
import { writeSafetensors } from '../../train/io/safetensors';
import { openStoredWeights, weightFileNames } from '../../train/io/stored-weights';
import { safetensorsToTensors } from '../../train/peft/format/tensor-files';
import type { AdapterEntry } from '../state/adapter-store';
import { folderName } from './adapter-zip';

export class MergeError extends Error {
  override readonly name = 'MergeError';
}

export async function mergedModelFiles(
  entry: AdapterEntry,
  baseFiles: Record<string, Uint8Array>,
): Promise<Record<string, Uint8Array>> {
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
  const stored = await openStoredWeights(filesFromMemory(baseFiles, 'the base model')).catch(
    (error: unknown) => {
      throw new MergeError(error instanceof Error ? error.message : String(error));
    },
  );
  const scale = config.use_rslora ? config.lora_alpha / Math.sqrt(config.r) : config.lora_alpha / config.r;
  const lora = safetensorsToTensors(
    'adapter_model.safetensors',
    entry.files['adapter_model.safetensors'] ?? new Uint8Array(),
  );
  const byName = new Map(stored.tensors.map((t) => [t.name, t]));
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
    const data = await stored.read(weight);
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
  const tensors = [];
  for (const t of stored.tensors)
    tensors.push({ name: t.name, shape: t.shape, data: merged.get(t.name) ?? (await stored.read(t)) });
  // The base's weight files (shards, indexes, pytorch_model.bin) are replaced by the one merged file.
  const shards = new Set(stored.tensors.map((t) => t.file));
  const others = Object.entries(baseFiles).filter(
    ([name]) => !shards.has(name) && !weightFileNames.includes(name),
  );
  return { ...Object.fromEntries(others), 'model.safetensors': writeSafetensors(tensors, { format: 'pt' }) };
}

export async function mergedModelZip(
  entry: AdapterEntry,
  baseFiles: Record<string, Uint8Array>,
): Promise<Uint8Array> {
  const folder = `${folderName(entry)}-merged`;
  const files = await mergedModelFiles(entry, baseFiles);
  return zipSync(
    Object.fromEntries(Object.entries(files).map(([name, data]) => [`${folder}/${name}`, data])),
    {
      level: 6,
    },
  );
}
