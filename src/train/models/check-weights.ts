/**
 * Compares a checkpoint's tensors (names and shapes, from safetensors headers) with what the config
 * requires, and reports every problem at once: missing tensors, wrong shapes, and leftovers.
 */
import type { DecoderConfig } from './config';
import { ModelFilesError } from './errors';
import { canonicalWeightName, expectedWeights } from './weight-shapes';

export interface StoredTensor {
  name: string;
  shape: number[];
  file: string;
  /** As stored (F32, F16, BF16, …), where the reader knows it. */
  dtype?: string;
}

/** Maps each expected weight name to the stored tensor that provides it. */
export function checkWeights(config: DecoderConfig, stored: StoredTensor[]): Map<string, StoredTensor> {
  const expected = expectedWeights(config);
  const found = new Map<string, StoredTensor>();
  const unexpected: string[] = [];
  for (const tensor of stored) {
    const name = canonicalWeightName(config, tensor.name);
    if (name === null) continue;
    // A tied checkpoint may still store lm_head; it is the embedding and is not needed.
    if (name === 'lm_head.weight' && config.tieWordEmbeddings) continue;
    if (expected.has(name)) found.set(name, tensor);
    else unexpected.push(tensor.name);
  }
  const problems: string[] = [];
  const missing = [...expected.keys()].filter((name) => !found.has(name));
  if (missing.length > 0) problems.push(`missing ${missing.length} tensor(s): ${list(missing)}`);
  for (const [name, tensor] of found) {
    const want = expected.get(name) as number[];
    if (want.length !== tensor.shape.length || want.some((d, i) => d !== tensor.shape[i])) {
      problems.push(
        `${name} in ${tensor.file} is [${tensor.shape.join(', ')}], but config.json implies [${want.join(', ')}]`,
      );
    }
  }
  if (unexpected.length > 0) problems.push(`tensors config.json does not account for: ${list(unexpected)}`);
  if (problems.length > 0) {
    throw new ModelFilesError(
      `The ${config.architecture} checkpoint does not match its config.json:\n- ${problems.join('\n- ')}`,
    );
  }
  return found;
}

function list(names: string[]): string {
  return names.length <= 5
    ? names.join(', ')
    : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}
