/**
 * The files of an encoder classifier beside its weights: the model's tokenizer as a PairEncoder, and the
 * Hugging Face folder a full fine-tune saves (config.json with the architecture and the label set as
 * id2label/label2id, model.safetensors, the tokenizer files), the folder `whetstone train --task
 * classification --method full` writes and the studio's full classification runs export.
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor } from '../../gpu/tensor';
import type { Label } from '../data/labels';
import { type ModelFiles, readJson, readText } from '../io/model-files';
import { writeSafetensors } from '../io/safetensors';
import type { EncoderModel } from '../models/bert';
import { PairEncoder } from './pair-encoder';
import { encoderTokenizerFiles } from './wordpiece-from-vocab';

export class ClassifierFilesError extends Error {
  override readonly name = 'ClassifierFilesError';
}

const tokenizerFiles = ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json'];

/** The model's tokenizer as a pair encoder: tokenizer.json, or BERT's WordPiece built from vocab.txt. */
export async function pairEncoderFor(files: ModelFiles): Promise<PairEncoder> {
  const tokenizer = await encoderTokenizerFiles(files);
  if (!tokenizer)
    throw new ClassifierFilesError(
      `${files.source} has neither tokenizer.json nor vocab.txt; Whetstone needs one of them. Add the model's tokenizer.json.`,
    );
  return new PairEncoder(tokenizer.tokenizerJson, tokenizer.tokenizerConfig);
}

/** A Hugging Face folder of the fine-tuned classifier: config.json with the label set, weights, tokenizer. */
export async function classifierFolder(
  runtime: Runtime,
  model: EncoderModel,
  files: ModelFiles,
  labelSet: readonly Label[],
): Promise<Record<string, Uint8Array | string>> {
  const config = (await readJson(files, 'config.json')) as Record<string, unknown>;
  const family = model.config.family;
  // The classifier of the architecture read: BertModel → BertForSequenceClassification, and so on.
  const architecture = model.config.architecture.replace(
    /(ForSequenceClassification|ForMaskedLM|ForPreTraining|Model)$/,
    'ForSequenceClassification',
  );
  const id2label = Object.fromEntries(labelSet.map((label, i) => [String(i), String(label)]));
  const label2id = Object.fromEntries(labelSet.map((label, i) => [String(label), i]));
  const tensors = [];
  for (const [name, param] of model.params)
    tensors.push({ name, shape: [...param.shape], data: await downloadTensor(runtime.arena, param) });
  const out: Record<string, Uint8Array | string> = {
    // model_type too: a source config without it (old BERT repos) was read by its name, which the
    // exported folder need not carry.
    'config.json': JSON.stringify(
      {
        ...config,
        model_type: config.model_type ?? family,
        architectures: [architecture],
        id2label,
        label2id,
      },
      null,
      2,
    ),
    'model.safetensors': writeSafetensors(tensors, { format: 'pt' }),
  };
  for (const name of tokenizerFiles) if (files.has(name)) out[name] = await readText(files, name);
  return out;
}

/** A folder as bytes, for postMessage and the adapter library (strings UTF-8 encoded). */
export function folderBytes(folder: Record<string, Uint8Array | string>): Record<string, Uint8Array> {
  const encoder = new TextEncoder();
  return Object.fromEntries(
    Object.entries(folder).map(([name, content]) => [
      name,
      typeof content === 'string' ? encoder.encode(content) : content,
    ]),
  );
}
