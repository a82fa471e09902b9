/**
 * What a finished run writes, by its method: a PEFT adapter folder (LoRA, DoRA, IA3, prompt, prefix),
 * Whetstone's bottleneck folder, or a Hugging Face model folder for full fine-tuning. One dispatch for
 * the CLI's `train --out` and the studio's worker, so both write the same files.
 */
import type { Runtime } from '../../gpu/runtime';
import type { ModelFiles } from '../io/model-files';
import type { DecoderModel } from '../models/decoder-step';
import type { Adaptation } from '../peft/adaptation';
import { BottleneckAdaptation } from '../peft/bottleneck';
import { DoraAdaptation } from '../peft/dora';
import { Ia3Adaptation } from '../peft/ia3';
import { LoraAdaptation } from '../peft/lora';
import { PrefixTuningAdaptation } from '../peft/prefix-tuning';
import { PromptTuningAdaptation } from '../peft/prompt-tuning';
import { bottleneckAdapterFiles } from './bottleneck-adapter';
import { hfFolderFiles, modelTensors } from './hf-folder';
import { ia3AdapterFiles } from './ia3-adapter';
import { loraAdapterFiles } from './lora-adapter';
import { prefixAdapterFiles } from './prefix-adapter';
import { promptAdapterFiles } from './prompt-adapter';

const asBytes = (files: Record<string, string | Uint8Array>): Record<string, Uint8Array> =>
  Object.fromEntries(
    Object.entries(files).map(([name, content]) => [
      name,
      typeof content === 'string' ? new TextEncoder().encode(content) : content,
    ]),
  );

export async function trainedFiles(
  runtime: Runtime,
  model: DecoderModel,
  adaptation: Adaptation,
  source: ModelFiles,
  baseModelNameOrPath: string | null,
): Promise<Record<string, Uint8Array>> {
  if (adaptation instanceof LoraAdaptation || adaptation instanceof DoraAdaptation)
    return asBytes(await loraAdapterFiles(runtime, model, adaptation, baseModelNameOrPath));
  if (adaptation instanceof Ia3Adaptation)
    return asBytes(await ia3AdapterFiles(runtime, model, adaptation, baseModelNameOrPath));
  if (adaptation instanceof BottleneckAdaptation)
    return asBytes(await bottleneckAdapterFiles(runtime, model, adaptation, baseModelNameOrPath));
  if (adaptation instanceof PromptTuningAdaptation)
    return asBytes(await promptAdapterFiles(runtime, model, adaptation, baseModelNameOrPath));
  if (adaptation instanceof PrefixTuningAdaptation)
    return asBytes(await prefixAdapterFiles(model, adaptation, baseModelNameOrPath));
  return hfFolderFiles(source, await modelTensors(runtime, model.params));
}
