/**
 * Model folders that have pytorch_model.bin instead of model.safetensors load the same weights: each
 * tiny fixture's safetensors file is rewritten as a torch.save state dict by CPython's pickler
 * (fixtures/make-torch-fixtures.py --convert; legacy and zip layouts), and every weight the model
 * reads must equal the safetensors one exactly. Old BERT files' LayerNorm.gamma/beta names included.
 */
import { describe, expect, it } from 'vitest';
import { tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import { openCheckpoint } from './checkpoint';
import { filesFromMemory } from './model-files';
import { noPythonReason, python3Available, torchBinOf } from './testing/torch-bin';

/** The folder with model.safetensors replaced by pytorch_model.bin. */
function asPytorchBin(files: Record<string, Uint8Array | string>, legacy: boolean) {
  const { 'model.safetensors': weights, ...rest } = files;
  return { ...rest, 'pytorch_model.bin': torchBinOf(weights as Uint8Array, legacy ? 'legacy' : 'zip') };
}

describe.skipIf(!python3Available)(
  `pytorch_model.bin model folders (skipped only if ${noPythonReason})`,
  () => {
    it.each([
      ['bert', true, true],
      ['distilbert', false, false],
      ['roberta', false, true],
    ] as const)(
      'a %s encoder (legacy names %s, legacy format %s) loads the same weights',
      async (family, legacyNames, legacy) => {
        const files = tinyEncoderFiles({ family, legacyNames, seed: 3 });
        const fromSafetensors = await openEncoderCheckpoint(filesFromMemory(files));
        const fromBin = await openEncoderCheckpoint(filesFromMemory(asPytorchBin(files, legacy)));
        expect(fromBin.initialised).toEqual([]);
        expect([...fromBin.shapes.keys()]).toEqual([...fromSafetensors.shapes.keys()]);
        for (const name of fromSafetensors.shapes.keys())
          expect(await fromBin.read(name), name).toEqual(await fromSafetensors.read(name));
      },
    );

    it.each([
      ['llama', true],
      ['gpt2', false],
    ] as const)('a %s decoder (legacy format %s) loads the same weights', async (family, legacy) => {
      const files = tinyModelFiles({ family, seed: 5 });
      const fromSafetensors = await openCheckpoint(filesFromMemory(files));
      const fromBin = await openCheckpoint(filesFromMemory(asPytorchBin(files, legacy)));
      expect([...fromBin.weights.keys()]).toEqual([...fromSafetensors.weights.keys()]);
      for (const name of fromSafetensors.weights.keys())
        expect(await fromBin.read(name), name).toEqual(await fromSafetensors.read(name));
    });

    it('prefers model.safetensors when a folder has both', async () => {
      const files = tinyModelFiles({ family: 'llama', seed: 5 });
      const both = {
        ...asPytorchBin(files, true),
        'model.safetensors': files['model.safetensors'] as Uint8Array,
      };
      // Damage the pickle: were it read, opening would fail.
      both['pytorch_model.bin'] = new Uint8Array(16);
      await expect(openCheckpoint(filesFromMemory(both))).resolves.toBeDefined();
    });
  },
);
