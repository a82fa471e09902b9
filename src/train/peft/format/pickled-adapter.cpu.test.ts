/**
 * Adapters saved by older PEFT as adapter_model.bin (a torch.save pickle, written here by CPython's
 * pickler through the test converter) become adapter_model.safetensors holding the same tensors.
 */
import { describe, expect, it } from 'vitest';
import { noPythonReason, python3Available, torchBinOf } from '../../io/testing/torch-bin';
import { AdapterFilesError } from './errors';
import { withSafetensorsWeights } from './pickled-adapter';
import { type AdapterTensors, safetensorsToTensors, tensorsToSafetensors } from './tensor-files';

const config = new TextEncoder().encode(JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4 }));
const random = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i * 13));
const tensors: AdapterTensors = new Map([
  ['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', { shape: [2, 5], data: random(10, 1) }],
  ['base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight', { shape: [7, 2], data: random(14, 2) }],
]);
const safetensors = tensorsToSafetensors('adapter_model.safetensors', tensors);

describe('adapter_model.bin', () => {
  it.skipIf(!python3Available)(
    `becomes adapter_model.safetensors with the same tensors (skipped only if ${noPythonReason})`,
    async () => {
      for (const layout of ['zip', 'legacy'] as const) {
        const folder = {
          'adapter_config.json': config,
          'adapter_model.bin': torchBinOf(safetensors, layout),
        };
        const converted = await withSafetensorsWeights(folder);
        expect(Object.keys(converted).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
        const read = safetensorsToTensors('a', converted['adapter_model.safetensors'] as Uint8Array);
        expect([...read.keys()]).toEqual([...tensors.keys()]);
        for (const [name, t] of tensors) expect(read.get(name), name).toEqual(t);
      }
    },
  );

  it('leaves a folder that has safetensors as it is', async () => {
    const folder = { 'adapter_config.json': config, 'adapter_model.safetensors': safetensors };
    expect(await withSafetensorsWeights(folder)).toBe(folder);
  });

  it('says why a damaged adapter_model.bin cannot be read', async () => {
    const folder = { 'adapter_config.json': config, 'adapter_model.bin': new Uint8Array([1, 2, 3, 4, 5]) };
    await expect(withSafetensorsWeights(folder)).rejects.toThrow(AdapterFilesError);
    await expect(withSafetensorsWeights(folder)).rejects.toThrow(/the adapter\/adapter_model\.bin/);
  });
});
