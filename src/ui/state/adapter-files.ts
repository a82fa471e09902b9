/**
 * Reading an adapter folder as the library keeps it: which files it has, its type and base model from
 * its config, and the files of a zip (PEFT folders are often shared zipped). A folder that is neither a
 * PEFT adapter nor Whetstone's bottleneck format is refused with what is missing.
 */
import { unzipSync } from 'fflate';

export class AdapterImportError extends Error {
  override readonly name = 'AdapterImportError';
}

export const peftConfigFile = 'adapter_config.json';
export const peftWeightsFile = 'adapter_model.safetensors';
export const bottleneckConfigFile = 'whetstone_adapter_config.json';
export const bottleneckWeightsFile = 'whetstone_adapter.safetensors';

export interface AdapterIdentity {
  peftType: string;
  baseModel: string | null;
}

/** The config file of a kept adapter folder. */
export function configFileOf(files: Record<string, Uint8Array>): string {
  return files[peftConfigFile] ? peftConfigFile : bottleneckConfigFile;
}

export function identify(files: Record<string, Uint8Array>): AdapterIdentity {
  const configName = files[peftConfigFile]
    ? peftConfigFile
    : files[bottleneckConfigFile]
      ? bottleneckConfigFile
      : null;
  if (!configName)
    throw new AdapterImportError(
      `No ${peftConfigFile} found: choose a PEFT adapter folder (or its zip) with ${peftConfigFile} and ${peftWeightsFile}.`,
    );
  const weights = configName === peftConfigFile ? peftWeightsFile : bottleneckWeightsFile;
  if (!files[weights])
    throw new AdapterImportError(
      `${configName} is there but ${weights} is missing; add the adapter's weights file.`,
    );
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(new TextDecoder().decode(files[configName]));
  } catch (error) {
    throw new AdapterImportError(`${configName} is not valid JSON: ${String(error)}`);
  }
  const peftType =
    configName === bottleneckConfigFile
      ? 'BOTTLENECK'
      : typeof config.peft_type === 'string'
        ? config.peft_type
        : '';
  if (!peftType) throw new AdapterImportError(`${configName} has no peft_type; is this a PEFT adapter?`);
  const base = config.base_model_name_or_path;
  return { peftType, baseModel: typeof base === 'string' ? base : null };
}

/** A zip's files, by their names without folders (a zipped adapter folder has one folder level). */
export function filesOfZip(bytes: Uint8Array): Record<string, Uint8Array> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new AdapterImportError(`The zip could not be read: ${String(error)}`);
  }
  const out: Record<string, Uint8Array> = {};
  for (const [path, data] of Object.entries(entries)) {
    const name = path.split('/').pop() ?? '';
    if (name && !path.endsWith('/')) out[name] = data;
  }
  return out;
}

export const methodOfPeftType = (peftType: string, config?: { use_dora?: unknown }) =>
  ({
    LORA: config?.use_dora ? 'dora' : 'lora',
    IA3: 'ia3',
    PROMPT_TUNING: 'prompt',
    PREFIX_TUNING: 'prefix',
    BOTTLENECK: 'adapter',
  })[peftType] ?? peftType.toLowerCase();
