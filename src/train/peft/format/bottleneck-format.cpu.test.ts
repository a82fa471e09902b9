import { describe, expect, it } from 'vitest';
import { tinyConfigJson } from '../../fixtures/tiny-models';
import { parseModelConfig } from '../../models/config';
import {
  bottleneckAdapterConfig,
  bottleneckConfigJson,
  bottleneckKey,
  expectedBottleneckKeys,
  parseBottleneckConfig,
  readBottleneckAdapter,
  writeBottleneckAdapter,
} from './bottleneck-format';
import { AdapterConfigError, AdapterKeysError, AdapterModelMismatchError } from './errors';
import type { AdapterTensors } from './tensor-files';

const llama = parseModelConfig(tinyConfigJson({ family: 'llama' }, 64, 1, 2)); // C 32, L 2
const gpt2 = parseModelConfig(tinyConfigJson({ family: 'gpt2' }, 64, 1, 2));

const config = bottleneckAdapterConfig(llama, { reductionFactor: 8, baseModelNameOrPath: 'x/tiny' });

function tensorsFor(shapes: Map<string, number[]>): AdapterTensors {
  return new Map(
    [...shapes].map(([key, shape], k) => {
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => k + i / 1000);
      return [key, { shape, data }];
    }),
  );
}

describe('bottleneck adapter format', () => {
  it('writes the documented config', () => {
    expect(bottleneckConfigJson(config)).toBe(`{
  "adapter_type": "bottleneck",
  "architecture": "LlamaForCausalLM",
  "base_model_name_or_path": "x/tiny",
  "bottleneck_size": 4,
  "format_version": 1,
  "hidden_size": 32,
  "non_linearity": "relu",
  "num_layers": 2,
  "positions": [
    "attention",
    "ffn"
  ],
  "reduction_factor": 8,
  "revision": null
}`);
  });

  it('has down [m, C] and up [C, m] with biases, per layer and position', () => {
    const keys = expectedBottleneckKeys(llama, config);
    expect(keys.size).toBe(2 * 2 * 4);
    expect(keys.get('adapters.layers.1.ffn.down.weight')).toEqual([4, 32]);
    expect(keys.get('adapters.layers.1.ffn.down.bias')).toEqual([4]);
    expect(keys.get('adapters.layers.0.attention.up.weight')).toEqual([32, 4]);
    expect(keys.get(bottleneckKey(0, 'attention', 'up', 'bias'))).toEqual([32]);
    const ffnOnly = bottleneckAdapterConfig(gpt2, {
      reductionFactor: 3,
      positions: ['ffn'],
      nonLinearity: 'gelu_new',
    });
    expect(ffnOnly.bottleneckSize).toBe(10); // floor(32 / 3)
    expect([...expectedBottleneckKeys(gpt2, ffnOnly).keys()].some((k) => k.includes('attention'))).toBe(
      false,
    );
  });

  it('round-trips config and tensors', () => {
    const tensors = tensorsFor(expectedBottleneckKeys(llama, config));
    const files = writeBottleneckAdapter({ config, tensors, model: llama });
    const read = readBottleneckAdapter(files, llama);
    expect(read.config).toEqual(config);
    expect(read.tensors).toEqual(tensors);
    const odd = bottleneckAdapterConfig(llama, { reductionFactor: 2.5, positions: ['ffn', 'attention'] });
    expect(parseBottleneckConfig(bottleneckConfigJson(odd))).toEqual(odd);
    expect(odd.positions).toEqual(['attention', 'ffn']);
  });

  it('refuses bad options and configs', () => {
    expect(() => bottleneckAdapterConfig(llama, { reductionFactor: 64 })).toThrow(/leaves no bottleneck/);
    expect(() => bottleneckAdapterConfig(llama, { reductionFactor: 8, positions: [] })).toThrow(
      AdapterConfigError,
    );
    expect(() =>
      bottleneckAdapterConfig(llama, { reductionFactor: 8, positions: ['attention', 'attention'] }),
    ).toThrow(AdapterConfigError);
    const json = JSON.parse(bottleneckConfigJson(config));
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ adapter_type: 'lora' }, /"adapter_type" must be "bottleneck"/],
      [{ format_version: 2 }, /format_version 2/],
      [{ non_linearity: 'swish' }, /"non_linearity" must be one of/],
      [{ positions: ['mlp'] }, /positions must be distinct entries/],
      [{ positions: 'ffn' }, /"positions" must be a list/],
      [{ bottleneck_size: 5 }, /bottleneck_size 5 is not floor/],
      [{ reduction_factor: 0 }, /"reduction_factor" must be a positive number/],
      [{ hidden_size: 'x' }, /"hidden_size" must be a positive integer/],
      [{ architecture: null }, /"architecture" must be a string/],
      [{ revision: 3 }, /"revision" must be a string or null/],
    ];
    for (const [change, message] of bad)
      expect(() => parseBottleneckConfig({ ...json, ...change })).toThrow(message);
    expect(() => parseBottleneckConfig('{')).toThrow(AdapterConfigError);
    expect(() => parseBottleneckConfig('null')).toThrow(/JSON object/);
  });

  it('refuses another model, and missing or misshapen tensors', () => {
    expect(() => expectedBottleneckKeys(gpt2, config)).toThrow(AdapterModelMismatchError);
    const tensors = tensorsFor(expectedBottleneckKeys(llama, config));
    tensors.delete('adapters.layers.0.ffn.up.bias');
    tensors.set('adapters.layers.1.ffn.up.weight', { shape: [4, 32], data: new Float32Array(128) });
    expect(() => writeBottleneckAdapter({ config, tensors, model: llama })).toThrow(AdapterKeysError);
    expect(() => writeBottleneckAdapter({ config, tensors, model: llama })).toThrow(
      /missing adapters.layers.0.ffn.up.bias \[32\].*adapters.layers.1.ffn.up.weight is \[4, 32\], expected \[32, 4\]/,
    );
    expect(() => readBottleneckAdapter({}, llama)).toThrow(/no whetstone_adapter_config.json/);
  });
});
