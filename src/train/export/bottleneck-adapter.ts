/**
 * Bottleneck adapters to and from Whetstone's own folder format (peft/format/bottleneck-format.ts and
 * the README beside it): a trained `BottleneckAdaptation` becomes whetstone_adapter_config.json +
 * whetstone_adapter.safetensors, and such a folder becomes the starting weights and settings of a
 * `BottleneckAdaptation` (to evaluate, generate or continue training). PEFT has no bottleneck method, so
 * no PEFT loader reads these files, by design.
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor } from '../../gpu/tensor';
import type { DecoderModel } from '../models/decoder-step';
import { BottleneckAdaptation, type BottleneckOptions } from '../peft/bottleneck';
import {
  bottleneckConfigFile,
  readBottleneckAdapter,
  type WrittenBottleneckAdapter,
  writeBottleneckAdapter,
} from '../peft/format/bottleneck-format';
import type { AdapterFolder, AdapterTensors } from '../peft/format/tensor-files';

export async function bottleneckAdapterFiles(
  runtime: Runtime,
  model: DecoderModel,
  adaptation: BottleneckAdaptation,
  baseModelNameOrPath: string | null,
  revision: string | null = null,
): Promise<WrittenBottleneckAdapter> {
  const tensors: AdapterTensors = new Map();
  for (const [key, tensor] of adaptation.tensors()) {
    tensors.set(key, { shape: [...tensor.shape], data: await downloadTensor(runtime.arena, tensor) });
  }
  // writeBottleneckAdapter checks every key and shape against the config on this model.
  return writeBottleneckAdapter({
    config: { ...adaptation.config, baseModelNameOrPath, revision },
    tensors,
    model: model.config,
  });
}

/** Whether a folder holds a Whetstone bottleneck adapter (its config file is there). */
export function isBottleneckAdapter(files: AdapterFolder): boolean {
  return files[bottleneckConfigFile] !== undefined;
}

/** A bottleneck adapter folder as a BottleneckAdaptation on `model`, with its settings and weights. */
export function bottleneckFromAdapter(
  runtime: Runtime,
  model: DecoderModel,
  files: AdapterFolder,
  overrides: Pick<BottleneckOptions, 'seed'> = {},
): BottleneckAdaptation {
  const { config, tensors } = readBottleneckAdapter(files, model.config);
  const initial = new Map([...tensors].map(([key, t]) => [key, t.data]));
  return new BottleneckAdaptation(
    runtime,
    model,
    {
      reductionFactor: config.reductionFactor,
      nonLinearity: config.nonLinearity,
      positions: config.positions,
      ...overrides,
    },
    initial,
  );
}
