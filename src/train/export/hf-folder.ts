/**
 * A model written back as a Hugging Face folder: config.json, model.safetensors (F32) and the
 * tokenizer and generation files copied from the source, so transformers' from_pretrained loads it.
 * Used for full fine-tuning and for LoRA merged into the base weights.
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor } from '../../gpu/tensor';
import type { ModelFiles } from '../io/model-files';
import { writeSafetensors } from '../io/safetensors';
import type { ParamMap } from '../models/params';

/** Files copied as they are from the source folder, when present. */
export const passThroughFiles = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'vocab.json',
  'merges.txt',
  'tokenizer.model',
];

/** Downloads every parameter, applying `edit` (a merge) by name on the way. */
export async function modelTensors(
  runtime: Runtime,
  params: ParamMap,
  edit?: (name: string, data: Float32Array) => Float32Array,
): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
  const out: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const [name, tensor] of params) {
    const data = await downloadTensor(runtime.arena, tensor);
    out.push({ name, shape: [...tensor.shape], data: edit ? edit(name, data) : data });
  }
  return out;
}

export async function hfFolderFiles(
  source: ModelFiles,
  tensors: { name: string; shape: number[]; data: Float32Array }[],
): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const name of passThroughFiles) if (source.has(name)) files[name] = await source.read(name);
  files['model.safetensors'] = writeSafetensors(tensors, { format: 'pt' });
  return files;
}
