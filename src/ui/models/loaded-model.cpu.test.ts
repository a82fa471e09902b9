/**
 * A loaded model folder keeps the weight files the worker opens: model.safetensors, or, for repos that
 * never got safetensors, pytorch_model.bin (and an index's shards); a folder with neither is refused by
 * name before anything is sent to the worker.
 */
import { describe, expect, it } from 'vitest';
import { tinyEncoderFiles } from '../../train/fixtures/tiny-encoders';
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { filesFromMemory } from '../../train/io/model-files';
import { LoadedModelError, loadedModel } from './loaded-model';
import { configOf } from './model-catalogue';

const { 'model.safetensors': weights, ...rest } = tinyEncoderFiles({ family: 'bert' });

describe('loadedModel', () => {
  it('keeps pytorch_model.bin when the folder has no safetensors', async () => {
    const pickled = new Uint8Array([1, 2, 3, 4]);
    const model = await loadedModel(
      filesFromMemory({ ...rest, 'pytorch_model.bin': pickled }, 'old-bert'),
      'local/old-bert',
      'old',
    );
    expect(model.task).toBe('classification');
    expect(Object.keys(model.files()).filter((name) => /model|\.bin/.test(name))).toEqual([
      'pytorch_model.bin',
    ]);
    expect(model.files()['pytorch_model.bin']).toEqual(pickled);
  });

  it('keeps the shards a pytorch_model.bin index lists', async () => {
    const index = JSON.stringify({
      weight_map: { a: 'pytorch_model-00001-of-00002.bin', b: 'pytorch_model-00002-of-00002.bin' },
    });
    const shard = new Uint8Array([9]);
    const files = filesFromMemory({
      ...rest,
      'pytorch_model.bin.index.json': index,
      'pytorch_model-00001-of-00002.bin': shard,
      'pytorch_model-00002-of-00002.bin': shard,
    });
    const kept = Object.keys((await loadedModel(files, 'local/sharded', 'sharded')).files());
    expect(kept).toEqual(
      expect.arrayContaining([
        'pytorch_model.bin.index.json',
        'pytorch_model-00001-of-00002.bin',
        'pytorch_model-00002-of-00002.bin',
      ]),
    );
  });

  it('offers rows as long as the positions, past any sliding window, and GPT-2 up to its positions', async () => {
    const llama = await loadedModel(filesFromMemory(tinyModelFiles({ family: 'llama' })), 'local/l', 'l');
    expect(llama.maxSeqLen).toBe(128);
    const mistralFiles = tinyModelFiles({ family: 'mistral', slidingWindow: 24 });
    const mistral = await loadedModel(filesFromMemory(mistralFiles), 'local/m', 'm');
    expect(mistral.maxSeqLen).toBe(128);
    const gpt2 = await loadedModel(filesFromMemory(tinyModelFiles({ family: 'gpt2' })), 'local/g', 'g');
    expect(gpt2.maxSeqLen).toBe(64);
  });

  it('refuses a folder without weights, naming both formats', async () => {
    const load = loadedModel(
      filesFromMemory({ ...rest, 'tf_model.h5': weights as Uint8Array }, 'tf-only'),
      'local/tf-only',
      'tf',
    );
    await expect(load).rejects.toThrow(LoadedModelError);
    await expect(load).rejects.toThrow(
      /tf-only has no weights: none of model\.safetensors.*pytorch_model\.bin/,
    );
  });

  it('plans by how the weight files store the weights, not by what config.json says', async () => {
    const bf16 = await loadedModel(
      filesFromMemory(tinyModelFiles({ family: 'llama', weightDtype: 'BF16' }), 'bf16'),
      'local/bf16',
      'bf16',
    );
    expect(bf16.halfWeights).toBe(true);
    expect(configOf(bf16).halfWeights).toBe(true);
    const f32Files = tinyModelFiles({ family: 'llama' });
    const saysBf16 = JSON.stringify({
      ...JSON.parse(f32Files['config.json'] as string),
      torch_dtype: 'bfloat16',
    });
    const f32 = await loadedModel(
      filesFromMemory({ ...f32Files, 'config.json': saysBf16 }, 'f32'),
      'local/f32',
      'f32',
    );
    expect(f32.halfWeights).toBe(false);
    expect(configOf(f32).halfWeights).toBeUndefined();
  });
});
