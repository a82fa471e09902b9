import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import { mergeLoraWeight } from '../../train/export/merge-lora';
import { parseSafetensorsHeader, toFloat32, writeSafetensors } from '../../train/io/safetensors';
import { noPythonReason, python3Available, torchBinOf } from '../../train/io/testing/torch-bin';
import { adapterZip } from '../download/adapter-zip';
import { MergeError, mergedModelFiles } from '../download/merged-model';
import { memoryAdapterStore } from './adapter-store';
import { type AdaptersSlice, createAdaptersSlice } from './adapters-slice';
import type { RunRecord } from './run-record';

const text = (s: string) => new TextEncoder().encode(s);

function loraFolder(r: number, alpha: number, a: Float32Array, b: Float32Array) {
  return {
    'adapter_config.json': text(
      JSON.stringify({ peft_type: 'LORA', r, lora_alpha: alpha, base_model_name_or_path: 'tiny/base' }),
    ),
    'adapter_model.safetensors': writeSafetensors([
      { name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', shape: [r, 3], data: a },
      { name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight', shape: [2, r], data: b },
    ]),
  };
}

const record = (method: RunRecord['settings']['method']): RunRecord =>
  ({
    id: 'run-1',
    label: 'LoRA r1',
    settings: { method, modelId: 'builtin', modelLabel: 'Tiny' },
    evals: [{ step: 3, loss: 1.25, elapsedMs: 10 }],
    trainableParams: 5,
  }) as RunRecord;

function setUp() {
  const store = memoryAdapterStore();
  let n = 0;
  const app = createStore<AdaptersSlice>()(
    createAdaptersSlice({ store: () => store, newId: () => `a${++n}`, now: () => 1000 + n }),
  );
  return { app, store };
}

const a = Float32Array.from([1, 2, 3]);
const b = Float32Array.from([0.5, -1]);

describe('adapter library', () => {
  it('keeps a PEFT run’s adapter with its measured facts, and not a full fine-tune', async () => {
    const { app, store } = setUp();
    await app
      .getState()
      .keepRunAdapter(record({ method: 'full' }), { 'model.safetensors': new Uint8Array(8) });
    expect(await store.all()).toHaveLength(0);
    await app
      .getState()
      .keepRunAdapter(record({ method: 'lora', r: 1, alpha: 2, dropout: 0 }), loraFolder(1, 2, a, b));
    const [kept] = await store.all();
    expect(kept).toMatchObject({
      peftType: 'LORA',
      method: 'lora',
      baseModel: 'tiny/base',
      runId: 'run-1',
      finalValLoss: 1.25,
    });
    expect(app.getState().adapters.entries.map((e) => e.id)).toEqual([kept?.id]);
  });

  it('renames and deletes, in the store too', async () => {
    const { app, store } = setUp();
    await app
      .getState()
      .keepRunAdapter(record({ method: 'lora', r: 1, alpha: 2, dropout: 0 }), loraFolder(1, 2, a, b));
    const id = app.getState().adapters.entries[0]?.id as string;
    await app.getState().renameAdapter(id, '  my adapter ');
    expect((await store.all())[0]?.name).toBe('my adapter');
    await app.getState().deleteAdapter(id);
    expect(await store.all()).toEqual([]);
    expect(app.getState().adapters.entries).toEqual([]);
  });

  it('zips the PEFT folder with a model card, and imports that zip back to the same files', async () => {
    const { app } = setUp();
    const files = loraFolder(1, 2, a, b);
    await app.getState().keepRunAdapter(record({ method: 'lora', r: 1, alpha: 2, dropout: 0 }), files);
    const entry = app.getState().adapters.entries[0] as NonNullable<
      ReturnType<typeof app.getState>['adapters']['entries'][0]
    >;
    const zip = adapterZip(entry);
    const unzipped = unzipSync(zip);
    const names = Object.keys(unzipped).map((p) => p.split('/')[1]);
    expect(names.sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    const card = new TextDecoder().decode(
      Object.entries(unzipped).find(([p]) => p.endsWith('README.md'))?.[1],
    );
    expect(card).toMatch(/^---\nbase_model: tiny\/base\nlibrary_name: peft/);
    await app.getState().importAdapter([{ name: 'shared.zip', bytes: zip }]);
    const imported = app.getState().adapters.entries.find((e) => e.runId === undefined);
    expect(imported).toMatchObject({ name: 'shared', peftType: 'LORA', method: 'lora' });
    expect(imported?.files['adapter_model.safetensors']).toEqual(files['adapter_model.safetensors']);
  });

  it.skipIf(!python3Available)(
    `imports an older PEFT folder with adapter_model.bin as the same safetensors tensors (skipped only if ${noPythonReason})`,
    async () => {
      const { app } = setUp();
      const files = loraFolder(1, 2, a, b);
      const weights = files['adapter_model.safetensors'];
      await app.getState().importAdapter([
        { name: 'old-peft/adapter_config.json', bytes: files['adapter_config.json'] },
        { name: 'old-peft/adapter_model.bin', bytes: torchBinOf(weights, 'legacy') },
      ]);
      const [imported] = app.getState().adapters.entries;
      expect(imported).toMatchObject({ name: 'old-peft', peftType: 'LORA' });
      expect(Object.keys(imported?.files ?? {}).sort()).toEqual([
        'adapter_config.json',
        'adapter_model.safetensors',
      ]);
      const read = (bytes: Uint8Array) =>
        parseSafetensorsHeader('w', bytes).map((t) => [
          t.name,
          [...toFloat32(t, bytes.subarray(t.begin, t.end), 'w')],
        ]);
      expect(read(imported?.files['adapter_model.safetensors'] as Uint8Array)).toEqual(read(weights));
    },
  );

  it('refuses a folder without an adapter config, saying what to choose', async () => {
    const { app } = setUp();
    await app.getState().importAdapter([{ name: 'x/model.safetensors', bytes: new Uint8Array(8) }]);
    expect(app.getState().adapters.error).toMatch(/AdapterImportError: No adapter_config\.json found/);
  });

  it('merges LoRA into the base weight as W + (alpha/r)·B·A and leaves the rest as it was', async () => {
    const weight = Float32Array.from([1, 0, 0, 0, 1, 0]);
    const other = Float32Array.from([7, 8]);
    const base = {
      'config.json': text('{}'),
      'model.safetensors': writeSafetensors([
        { name: 'model.layers.0.self_attn.q_proj.weight', shape: [2, 3], data: weight },
        { name: 'model.norm.weight', shape: [2], data: other },
      ]),
    };
    const entry = {
      id: 'x',
      name: 'x',
      peftType: 'LORA',
      method: 'lora',
      baseModel: null,
      createdAt: 0,
      files: loraFolder(1, 2, a, b),
    };
    const merged = await mergedModelFiles(entry, base);
    const bytes = merged['model.safetensors'] as Uint8Array;
    const tensors = Object.fromEntries(
      parseSafetensorsHeader('m', bytes).map((t) => [
        t.name,
        Array.from(toFloat32(t, bytes.subarray(t.begin, t.end), 'm')),
      ]),
    );
    // s = 2/1; B·A = [[0.5, 1, 1.5], [-1, -2, -3]].
    expect(tensors['model.layers.0.self_attn.q_proj.weight']).toEqual([2, 2, 3, -2, -3, -6]);
    expect(tensors['model.layers.0.self_attn.q_proj.weight']).toEqual(
      Array.from(mergeLoraWeight(weight, a, b, { out: 2, in: 3, r: 1 }, 2, 'out-in')),
    );
    expect(tensors['model.norm.weight']).toEqual([7, 8]);
    expect(merged['config.json']).toEqual(base['config.json']);
    await expect(mergedModelFiles({ ...entry, peftType: 'IA3' }, base)).rejects.toThrow(MergeError);
  });
});
