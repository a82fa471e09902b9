/**
 * Adapter folders saved by older PEFT (before safe_serialization became the default) hold their weights
 * as adapter_model.bin, a torch.save pickle. They are read here as torch.load(weights_only=True) would
 * (torch-weights.ts: tensors only, no code run) and rewritten as adapter_model.safetensors, so every
 * reader after this point, and the adapter library, sees the one format.
 */
import { filesFromMemory } from '../../io/model-files';
import { openTorchWeights } from '../../io/torch-weights';
import { AdapterFilesError } from './errors';
import { type AdapterTensors, tensorsToSafetensors } from './tensor-files';

export const pickledAdapterWeightsFile = 'adapter_model.bin';
const safetensorsWeightsFile = 'adapter_model.safetensors';

/** The folder with adapter_model.bin replaced by the same tensors as adapter_model.safetensors. */
export async function withSafetensorsWeights(
  files: Record<string, Uint8Array>,
): Promise<Record<string, Uint8Array>> {
  const pickled = files[pickledAdapterWeightsFile];
  if (pickled === undefined || files[safetensorsWeightsFile] !== undefined) return files;
  const tensors: AdapterTensors = new Map();
  try {
    const weights = await openTorchWeights(
      filesFromMemory({ [pickledAdapterWeightsFile]: pickled }, 'the adapter'),
      pickledAdapterWeightsFile,
    );
    for (const t of weights.tensors)
      tensors.set(t.name, { shape: t.shape, data: await weights.read(t.name) });
  } catch (error) {
    throw new AdapterFilesError(error instanceof Error ? error.message : String(error));
  }
  const { [pickledAdapterWeightsFile]: _, ...rest } = files;
  return { ...rest, [safetensorsWeightsFile]: tensorsToSafetensors(safetensorsWeightsFile, tensors) };
}
