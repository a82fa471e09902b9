/**
 * Whetstone's own file format for bottleneck adapters (Houlsby et al. 2019, "Parameter-Efficient
 * Transfer Learning for NLP", https://arxiv.org/abs/1902.00751), which PEFT does not implement; the
 * README beside this file is the specification. Two files: whetstone_adapter_config.json and
 * whetstone_adapter.safetensors. Names differ from PEFT's on purpose, so no PEFT loader mistakes one
 * for the other. Per layer i and position p (attention, ffn), with m = bottleneck_size:
 *   adapters.layers.{i}.{p}.down.weight [m, C]   down.bias [m]
 *   adapters.layers.{i}.{p}.up.weight   [C, m]   up.bias   [C]
 * (nn.Linear's [out, in] layout). On the sublayer output h (after o_proj / c_proj, or after the MLP's
 * output projection, before the residual add): h + up(act(down(h))).
 */
import type { DecoderConfig } from '../../models/config';
import { AdapterConfigError, AdapterModelMismatchError } from './errors';
import type { KeyShapes } from './expected-keys';
import { PythonFloat, type PythonJson, pythonJsonDumps } from './python-json';
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

export const bottleneckConfigFile = 'whetstone_adapter_config.json';
export const bottleneckWeightsFile = 'whetstone_adapter.safetensors';
export const bottleneckFormatVersion = 1;

export const bottleneckPositions = ['attention', 'ffn'] as const;
export type BottleneckPosition = (typeof bottleneckPositions)[number];

/** relu; gelu = exact (erf) GELU; gelu_new = GPT-2's tanh approximation; silu. */
export const nonLinearities = ['relu', 'gelu', 'gelu_new', 'silu'] as const;
export type NonLinearity = (typeof nonLinearities)[number];

export interface BottleneckAdapterConfig {
  adapterType: 'bottleneck';
  formatVersion: number;
  /** C / bottleneck width, as Houlsby and AdapterHub state it. */
  reductionFactor: number;
  /** floor(C / reductionFactor), stored so a reader needs no rounding rule. */
  bottleneckSize: number;
  nonLinearity: NonLinearity;
  /** Where adapters sit, in this order: after attention, after the feed-forward block. */
  positions: BottleneckPosition[];
  /** The base model's C, L and architecture, checked on reading. */
  hiddenSize: number;
  numLayers: number;
  architecture: string;
  baseModelNameOrPath: string | null;
  revision: string | null;
}

export interface BottleneckOptions {
  reductionFactor: number;
  nonLinearity?: NonLinearity;
  positions?: readonly BottleneckPosition[];
  baseModelNameOrPath?: string | null;
  revision?: string | null;
}

function orderedPositions(positions: readonly unknown[]): BottleneckPosition[] {
  const bad = positions.filter((p) => !(bottleneckPositions as readonly unknown[]).includes(p));
  if (bad.length || positions.length === 0 || new Set(positions).size !== positions.length) {
    throw new AdapterConfigError(
      `Bottleneck positions must be distinct entries of ${bottleneckPositions.join(', ')}; got ${JSON.stringify(positions)}.`,
    );
  }
  return bottleneckPositions.filter((p) => positions.includes(p));
}

export function bottleneckAdapterConfig(
  model: { readonly C: number; readonly L: number; readonly architecture: string },
  o: BottleneckOptions,
): BottleneckAdapterConfig {
  const bottleneckSize = Math.floor(model.C / o.reductionFactor);
  if (!(Number.isFinite(o.reductionFactor) && o.reductionFactor > 0 && bottleneckSize >= 1)) {
    throw new AdapterConfigError(
      `reduction_factor ${o.reductionFactor} leaves no bottleneck for hidden size ${model.C}; use 1..${model.C}.`,
    );
  }
  return {
    adapterType: 'bottleneck',
    formatVersion: bottleneckFormatVersion,
    reductionFactor: o.reductionFactor,
    bottleneckSize,
    nonLinearity: o.nonLinearity ?? 'relu',
    positions: orderedPositions(o.positions ?? bottleneckPositions),
    hiddenSize: model.C,
    numLayers: model.L,
    architecture: model.architecture,
    baseModelNameOrPath: o.baseModelNameOrPath ?? null,
    revision: o.revision ?? null,
  };
}

export function bottleneckConfigJson(c: BottleneckAdapterConfig): string {
  const fields: Record<string, PythonJson> = {
    adapter_type: c.adapterType,
    architecture: c.architecture,
    base_model_name_or_path: c.baseModelNameOrPath,
    bottleneck_size: c.bottleneckSize,
    format_version: c.formatVersion,
    hidden_size: c.hiddenSize,
    non_linearity: c.nonLinearity,
    num_layers: c.numLayers,
    positions: [...c.positions],
    reduction_factor: Number.isInteger(c.reductionFactor)
      ? c.reductionFactor
      : new PythonFloat(c.reductionFactor),
    revision: c.revision,
  };
  return pythonJsonDumps(fields);
}

export function parseBottleneckConfig(json: string | unknown): BottleneckAdapterConfig {
  let raw: unknown = json;
  if (typeof json === 'string') {
    try {
      raw = JSON.parse(json);
    } catch (error) {
      throw new AdapterConfigError(`${bottleneckConfigFile} is not valid JSON (${String(error)}).`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new AdapterConfigError(`${bottleneckConfigFile} must hold a JSON object.`);
  const j = raw as Record<string, unknown>;
  const fail = (key: string, wanted: string): never => {
    throw new AdapterConfigError(
      `${bottleneckConfigFile}: "${key}" must be ${wanted}, got ${JSON.stringify(j[key])}.`,
    );
  };
  const int = (key: string) => {
    const v = j[key];
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fail(key, 'a positive integer');
  };
  const optionalString = (key: string) => {
    const v = j[key] ?? null;
    return v === null || typeof v === 'string' ? v : fail(key, 'a string or null');
  };
  if (j.adapter_type !== 'bottleneck') fail('adapter_type', '"bottleneck"');
  const version = int('format_version');
  if (version > bottleneckFormatVersion) {
    throw new AdapterConfigError(
      `${bottleneckConfigFile} is format_version ${version}; this Whetstone reads up to ${bottleneckFormatVersion}.`,
    );
  }
  const reductionFactor = j.reduction_factor;
  if (!(typeof reductionFactor === 'number' && reductionFactor > 0))
    fail('reduction_factor', 'a positive number');
  const nonLinearity = j.non_linearity;
  if (!(nonLinearities as readonly unknown[]).includes(nonLinearity))
    fail('non_linearity', `one of ${nonLinearities.join(', ')}`);
  if (!Array.isArray(j.positions)) fail('positions', `a list of ${bottleneckPositions.join(', ')}`);
  const architecture = j.architecture;
  if (typeof architecture !== 'string') fail('architecture', 'a string');
  const config: BottleneckAdapterConfig = {
    adapterType: 'bottleneck',
    formatVersion: version,
    reductionFactor: reductionFactor as number,
    bottleneckSize: int('bottleneck_size'),
    nonLinearity: nonLinearity as NonLinearity,
    positions: orderedPositions(j.positions as unknown[]),
    hiddenSize: int('hidden_size'),
    numLayers: int('num_layers'),
    architecture: architecture as string,
    baseModelNameOrPath: optionalString('base_model_name_or_path'),
    revision: optionalString('revision'),
  };
  if (config.bottleneckSize !== Math.floor(config.hiddenSize / config.reductionFactor)) {
    throw new AdapterConfigError(
      `${bottleneckConfigFile}: bottleneck_size ${config.bottleneckSize} is not floor(hidden_size ${config.hiddenSize} / reduction_factor ${config.reductionFactor}).`,
    );
  }
  return config;
}

export function bottleneckKey(
  layer: number,
  position: BottleneckPosition,
  projection: 'down' | 'up',
  param: 'weight' | 'bias',
): string {
  return `adapters.layers.${layer}.${position}.${projection}.${param}`;
}

export function expectedBottleneckKeys(model: DecoderConfig, c: BottleneckAdapterConfig): KeyShapes {
  if (c.hiddenSize !== model.C || c.numLayers !== model.L || c.architecture !== model.architecture) {
    throw new AdapterModelMismatchError(
      `The bottleneck adapter is for ${c.architecture} with hidden size ${c.hiddenSize} and ${c.numLayers} ` +
        `layers; the model is ${model.architecture} with ${model.C} and ${model.L}.`,
    );
  }
  const m = c.bottleneckSize;
  const keys: KeyShapes = new Map();
  for (let layer = 0; layer < c.numLayers; layer++) {
    for (const p of c.positions) {
      keys.set(bottleneckKey(layer, p, 'down', 'weight'), [m, c.hiddenSize]);
      keys.set(bottleneckKey(layer, p, 'down', 'bias'), [m]);
      keys.set(bottleneckKey(layer, p, 'up', 'weight'), [c.hiddenSize, m]);
      keys.set(bottleneckKey(layer, p, 'up', 'bias'), [c.hiddenSize]);
    }
  }
  return keys;
}

/** A type alias, not an interface, so it passes as a folder (Record of files). */
export type WrittenBottleneckAdapter = {
  'whetstone_adapter_config.json': string;
  'whetstone_adapter.safetensors': Uint8Array;
};

export function writeBottleneckAdapter(a: {
  config: BottleneckAdapterConfig;
  tensors: AdapterTensors;
  model: DecoderConfig;
}): WrittenBottleneckAdapter {
  compareTensorKeys(bottleneckWeightsFile, expectedBottleneckKeys(a.model, a.config), shapesOf(a.tensors));
  return {
    'whetstone_adapter_config.json': bottleneckConfigJson(a.config),
    'whetstone_adapter.safetensors': tensorsToSafetensors(bottleneckWeightsFile, a.tensors),
  };
}

export function readBottleneckAdapter(
  files: AdapterFolder,
  model: DecoderConfig,
): { config: BottleneckAdapterConfig; tensors: AdapterTensors } {
  const config = parseBottleneckConfig(fileText(files, bottleneckConfigFile));
  const tensors = safetensorsToTensors(bottleneckWeightsFile, fileBytes(files, bottleneckWeightsFile));
  compareTensorKeys(bottleneckWeightsFile, expectedBottleneckKeys(model, config), shapesOf(tensors));
  return { config, tensors };
}
