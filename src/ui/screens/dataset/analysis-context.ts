/**
 * What a dataset is measured against: the studio's chosen model (its tokenizer and chat template, so
 * token counts and masked spans are the model's own) and the run's sequence length (to count examples
 * training would cut). Only the tokenizer's files go to the dataset worker, not the weights.
 */
import { findModel } from '../../models/model-catalogue';
import type { AnalysisContext } from '../../state/dataset-slice';

const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'chat_template.jinja',
  'generation_config.json',
  'config.json',
];

export function analysisContextFor(modelId: string, seqLen: string): AnalysisContext {
  const maxLength = Number(seqLen);
  const context: AnalysisContext = Number.isInteger(maxLength) && maxLength > 0 ? { maxLength } : {};
  const model = findModel(modelId);
  if (!model) return context;
  let files: Record<string, Uint8Array>;
  try {
    files = model.files();
  } catch {
    // A model whose files are not here yet (a hub model not downloaded): measure without a tokenizer.
    return context;
  }
  const picked = Object.fromEntries(
    TOKENIZER_FILES.flatMap((name) => (files[name] ? [[name, files[name]]] : [])),
  );
  if (!picked['tokenizer.json']) return context;
  return { ...context, tokenizer: { modelId, files: picked } };
}
