/**
 * A PEFT adapter folder as PeftModel.save_pretrained leaves it: adapter_config.json and
 * adapter_model.safetensors (peft_model.py; file names from utils/constants.py). Writing checks the
 * tensors against the config first when given the base model; reading always does, so an adapter that
 * PeftModel.from_pretrained would load with missing or unexpected keys, or a size mismatch, fails here
 * by key instead. The model card README.md PEFT also writes is not needed to load and is left out.
 */
import type { DecoderConfig } from '../../models/config';
import { type AdapterConfig, adapterConfigJson } from './adapter-config';
import { AdapterFilesError } from './errors';
import { classificationHeadKey, type ExpectedKeyOptions, expectedAdapterKeys } from './expected-keys';
import { parseAdapterConfig } from './parse-adapter-config';
import {
  type AdapterFolder,
  type AdapterTensors,
  compareTensorKeys,
  fileBytes,
  fileText,
  safetensorsToTensors,
  shapesOf,
  tensorsToSafetensors,
} from './tensor-files';

export const adapterConfigFile = 'adapter_config.json';
export const adapterWeightsFile = 'adapter_model.safetensors';

/**
 * Compares a weights file's keys and shapes with those PEFT expects for this config on this model, and
 * returns the expected map. For SEQ_CLS without numLabels, the head's row count is taken from the file.
 */
export function checkAdapterKeys(
  model: DecoderConfig,
  config: AdapterConfig,
  keys: ReadonlyMap<string, number[]>,
  options: ExpectedKeyOptions = {},
): Map<string, number[]> {
  let numLabels = options.numLabels;
  if (config.taskType === 'SEQ_CLS' && numLabels === undefined) {
    numLabels = keys.get(classificationHeadKey(config))?.[0];
    if (numLabels === undefined) {
      throw new AdapterFilesError(
        `${adapterWeightsFile} has no ${classificationHeadKey(config)}, the score head a SEQ_CLS adapter saves.`,
      );
    }
  }
  const expected = expectedAdapterKeys(model, config, { numLabels });
  compareTensorKeys(adapterWeightsFile, expected, keys);
  return expected;
}

export interface AdapterToWrite {
  config: AdapterConfig;
  tensors: AdapterTensors;
  /** When given, the tensors are checked against the config before anything is written. */
  model?: DecoderConfig;
  numLabels?: number;
}

/** A type alias, not an interface, so it passes as a folder (Record of files). */
export type WrittenAdapter = {
  'adapter_config.json': string;
  'adapter_model.safetensors': Uint8Array;
};

export function writeAdapter(a: AdapterToWrite): WrittenAdapter {
  if (a.model) checkAdapterKeys(a.model, a.config, shapesOf(a.tensors), { numLabels: a.numLabels });
  return {
    'adapter_config.json': adapterConfigJson(a.config),
    'adapter_model.safetensors': tensorsToSafetensors(adapterWeightsFile, a.tensors),
  };
}

export interface ReadAdapter {
  config: AdapterConfig;
  tensors: AdapterTensors;
}

/** Reads and validates an adapter folder for a base model (F32, F16 and BF16 tensors become F32). */
export function readAdapter(
  files: AdapterFolder,
  model: DecoderConfig,
  options: ExpectedKeyOptions = {},
): ReadAdapter {
  const config = parseAdapterConfig(
    fileText(
      files,
      adapterConfigFile,
      ' Is this a PEFT adapter folder? (Whetstone bottleneck adapters have whetstone_adapter_config.json.)',
    ),
  );
  const pickle = files['adapter_model.bin'] !== undefined && files[adapterWeightsFile] === undefined;
  const bytes = fileBytes(
    files,
    adapterWeightsFile,
    pickle
      ? ' It has adapter_model.bin (a torch pickle), which only the adapter library import and the CLI convert; load it through one of those.'
      : '',
  );
  const tensors = safetensorsToTensors(adapterWeightsFile, bytes);
  checkAdapterKeys(model, config, shapesOf(tensors), options);
  return { config, tensors };
}
