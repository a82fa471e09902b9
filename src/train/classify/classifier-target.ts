/**
 * What the worker's handler needs to know about classifiers without loading the GPU engine: the named
 * error for a request that does not fit the model's task (a `generate` on a classification run, a
 * `classify` on a language model), and whether a set of model files is an encoder classifier (BERT,
 * DistilBERT, RoBERTa), read from its config.json.
 */

export class TaskMismatchError extends Error {
  override readonly name = 'TaskMismatchError';
}

/** The softmax class probabilities of one input, with the class names in class-id order. */
export interface ClassProbabilities {
  labels: string[];
  probabilities: number[];
}

const encoderTypes = new Set(['bert', 'distilbert', 'roberta', 'xlm-roberta']);

/** The config's model_type, or undefined when config.json is missing or unreadable. */
export function modelTypeOf(files: Record<string, Uint8Array | string>): string | undefined {
  const config = files['config.json'];
  if (config === undefined) return undefined;
  try {
    const json = JSON.parse(typeof config === 'string' ? config : new TextDecoder().decode(config)) as {
      model_type?: unknown;
    };
    return typeof json.model_type === 'string' ? json.model_type : undefined;
  } catch {
    return undefined;
  }
}

/** True for BERT, DistilBERT and RoBERTa checkpoints, the encoders Whetstone classifies with. */
export function isEncoderClassifierFiles(files: Record<string, Uint8Array | string>): boolean {
  return encoderTypes.has(modelTypeOf(files) ?? '');
}

/** Refuses a classify request on a language model's files, by name and with what to do. */
export function assertEncoderClassifier(files: Record<string, Uint8Array | string>, modelName: string): void {
  if (isEncoderClassifierFiles(files)) return;
  const type = modelTypeOf(files);
  throw new TaskMismatchError(
    `${modelName} is ${type ? `a ${type} language model` : 'not an encoder classifier'}; classify needs a BERT, DistilBERT or RoBERTa classifier. Use generate for language models.`,
  );
}
