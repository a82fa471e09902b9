import { describe, expect, it } from 'vitest';
import { tinyConfigJson } from '../../fixtures/tiny-models';
import { parseSafetensorsHeader } from '../../io/safetensors';
import { parseModelConfig } from '../../models/config';
import {
  type AdapterConfig,
  ia3AdapterConfig,
  loraAdapterConfig,
  prefixTuningAdapterConfig,
  promptTuningAdapterConfig,
} from './adapter-config';
import { checkAdapterKeys, readAdapter, writeAdapter } from './adapter-files';
import { AdapterFilesError, AdapterKeysError, AdapterModelMismatchError } from './errors';
import { expectedAdapterKeys } from './expected-keys';
import type { AdapterTensors } from './tensor-files';

const llama = parseModelConfig(tinyConfigJson({ family: 'llama' }, 64, 1, 2));
const gpt2 = parseModelConfig(tinyConfigJson({ family: 'gpt2' }, 64, 1, 2));

function tensorsFor(shapes: Map<string, number[]>, seed = 1): AdapterTensors {
  let s = seed;
  const tensors: AdapterTensors = new Map();
  for (const [key, shape] of shapes) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) {
      s = (s * 16807) % 2147483647;
      data[i] = (s / 2147483647) * 2 - 1;
    }
    tensors.set(key, { shape, data });
  }
  return tensors;
}

const lora = loraAdapterConfig(llama, { r: 4, alpha: 8 });
const loraFiles = () => writeAdapter({ config: lora, tensors: tensorsFor(expectedAdapterKeys(llama, lora)) });

describe('adapter folders', () => {
  const cases: [string, AdapterConfig, typeof llama, number?][] = [
    ['LoRA Llama', lora, llama],
    [
      'DoRA all-linear GPT-2',
      loraAdapterConfig(gpt2, { r: 2, alpha: 4, useDora: true, targetModules: 'all-linear' }),
      gpt2,
    ],
    ['LoRA SEQ_CLS', loraAdapterConfig(llama, { r: 2, alpha: 4, taskType: 'SEQ_CLS' }), llama, 3],
    ['IA3 GPT-2', ia3AdapterConfig(gpt2), gpt2],
    ['prompt tuning', promptTuningAdapterConfig(llama, { numVirtualTokens: 5 }), llama],
    ['prefix tuning', prefixTuningAdapterConfig(llama, { numVirtualTokens: 3 }), llama],
  ];
  it.each(cases)('%s: write then read gives the same config and tensors', (_, config, model, numLabels) => {
    const tensors = tensorsFor(expectedAdapterKeys(model, config, { numLabels }));
    const files = writeAdapter({ config, tensors, model, numLabels });
    const read = readAdapter(files, model); // SEQ_CLS: num_labels taken from the file
    expect(read.config).toEqual(config);
    expect(read.tensors).toEqual(tensors);
  });

  it('writes safetensors as PEFT does: metadata {"format": "pt"}, F32, keys in sorted order', () => {
    const bytes = loraFiles()['adapter_model.safetensors'];
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(header.__metadata__).toEqual({ format: 'pt' });
    const names = parseSafetensorsHeader('a', bytes).map((e) => e.name);
    expect(names).toEqual([...names].sort());
    expect(parseSafetensorsHeader('a', bytes).every((e) => e.dtype === 'F32')).toBe(true);
  });

  it('reads F16 tensors as F32', () => {
    const config = promptTuningAdapterConfig(llama, { numVirtualTokens: 1 });
    const json = JSON.stringify({
      prompt_embeddings: { dtype: 'F16', shape: [1, 32], data_offsets: [0, 64] },
    });
    const bytes = new Uint8Array(8 + json.length + 64);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(new TextEncoder().encode(json), 8);
    new DataView(bytes.buffer).setUint16(8 + json.length, 0x3c00, true); // 1.0
    const files = { ...writeAdapter({ config, tensors: tensorsFor(expectedAdapterKeys(llama, config)) }) };
    files['adapter_model.safetensors'] = bytes;
    expect(readAdapter(files, llama).tensors.get('prompt_embeddings')?.data[0]).toBe(1);
  });

  it('names a missing, an unexpected and a wrongly shaped key', () => {
    const tensors = tensorsFor(expectedAdapterKeys(llama, lora));
    const q = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
    const v = 'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight';
    tensors.delete(q);
    tensors.set(v, { shape: [4, 16], data: new Float32Array(64) });
    tensors.set('base_model.model.lm_head.lora_A.weight', { shape: [4, 32], data: new Float32Array(128) });
    const files = writeAdapter({ config: lora, tensors });
    let error: AdapterKeysError | undefined;
    try {
      readAdapter(files, llama);
    } catch (e) {
      error = e as AdapterKeysError;
    }
    expect(error).toBeInstanceOf(AdapterKeysError);
    expect(error?.missing).toEqual([{ key: q, expected: [4, 32] }]);
    expect(error?.unexpected).toEqual([{ key: 'base_model.model.lm_head.lora_A.weight', found: [4, 32] }]);
    expect(error?.wrongShape).toEqual([{ key: v, expected: [16, 4], found: [4, 16] }]);
    expect(error?.message).toContain(`missing ${q} [4, 32]`);
    expect(error?.message).toContain(`${v} is [4, 16], expected [16, 4]`);
    expect(() => writeAdapter({ config: lora, tensors, model: llama })).toThrow(AdapterKeysError);
  });

  it('refuses a DoRA file without magnitudes, and an adapter for another model', () => {
    const dora = { ...lora, useDora: true };
    expect(() => readAdapter(loraFiles(), llama)).not.toThrow();
    const files = {
      ...loraFiles(),
      'adapter_config.json': writeAdapter({ config: dora, tensors: new Map() })['adapter_config.json'],
    };
    expect(() => readAdapter(files, llama)).toThrow(/lora_magnitude_vector/);
    expect(() => readAdapter(loraFiles(), gpt2)).toThrow(AdapterModelMismatchError);
    const prefix = prefixTuningAdapterConfig(gpt2, { numVirtualTokens: 2 });
    const prefixFiles = writeAdapter({
      config: prefix,
      tensors: tensorsFor(expectedAdapterKeys(gpt2, prefix)),
    });
    expect(() => readAdapter(prefixFiles, llama)).toThrow(/KV heads|key\/value heads/);
  });

  it('says which file is missing or malformed', () => {
    const { 'adapter_config.json': config, 'adapter_model.safetensors': weights } = loraFiles();
    expect(() => readAdapter({ 'adapter_model.safetensors': weights }, llama)).toThrow(
      /no adapter_config.json/,
    );
    expect(() => readAdapter({ 'adapter_config.json': config }, llama)).toThrow(
      /no adapter_model.safetensors/,
    );
    expect(() =>
      readAdapter({ 'adapter_config.json': config, 'adapter_model.bin': new Uint8Array(4) }, llama),
    ).toThrow(/pickle/);
    const seqCls = loraAdapterConfig(llama, { r: 2, alpha: 4, taskType: 'SEQ_CLS' });
    const noHead = writeAdapter({
      config: seqCls,
      tensors: tensorsFor(expectedAdapterKeys(llama, { ...seqCls, taskType: 'CAUSAL_LM' })),
    });
    expect(() => readAdapter(noHead, llama)).toThrow(/base_model.model.score.weight/);
    const short = new Map([['prompt_embeddings', { shape: [2, 32], data: new Float32Array(3) }]]);
    expect(() =>
      writeAdapter({ config: promptTuningAdapterConfig(llama, { numVirtualTokens: 2 }), tensors: short }),
    ).toThrow(AdapterFilesError);
    expect(() =>
      readAdapter({ 'adapter_config.json': config, 'adapter_model.safetensors': new Uint8Array(3) }, llama),
    ).toThrow(/too short/);
  });

  it('checkAdapterKeys returns what PEFT expects when the keys match', () => {
    const expected = expectedAdapterKeys(gpt2, ia3AdapterConfig(gpt2));
    expect(checkAdapterKeys(gpt2, ia3AdapterConfig(gpt2), expected)).toEqual(expected);
  });
});
