import 'fake-indexeddb/auto';
import { createStore, keys, type UseStore } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import type { CheckpointState } from '../../train/checkpoint-state';
import { defaultTrainConfig } from '../../train/train-config';
import { checkpointStore, type StoredCheckpoint } from './checkpoint-store';
import { type StorageAccess, StorageFullError } from './storage-quota';

let dbCount = 0;
const freshStore = () => createStore(`checkpoints-test-${++dbCount}-${Math.random()}`, 'checkpoints');
const plenty: StorageAccess = { estimate: async () => ({ usage: 0, quota: 1e9 }) };

function checkpointAt(step: number, values = 5): CheckpointState {
  return {
    position: { step, epoch: 0, queue: [[1, 2]] },
    config: { ...defaultTrainConfig, steps: 30 },
    method: 'lora',
    tensors: new Map([
      [`param:a`, { shape: [values], data: Float32Array.from({ length: values }, (_, i) => step + i / 10) }],
    ]),
  };
}

const entry = (runId: string, step: number, values = 5): StoredCheckpoint => ({
  runId,
  step,
  modelId: 'builtin-tiny-llama',
  spec: {
    modelName: 'tiny',
    method: { method: 'lora', r: 2, alpha: 4, dropout: 0 },
    train: { ...defaultTrainConfig, steps: 30 },
    trainTexts: ['a b', 'c d'],
  },
  checkpoint: checkpointAt(step, values),
  savedAt: step * 1000,
});

/** A store whose puts fail as a full disk does, while `armed`. */
function quotaFailingStore(real: UseStore, state: { armed: boolean }): UseStore {
  return (mode, callback) =>
    real(mode, (objectStore) =>
      callback(
        new Proxy(objectStore, {
          get(target, prop) {
            if (prop === 'put' && state.armed)
              return () => {
                throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
              };
            const value = Reflect.get(target, prop);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
      ),
    );
}

describe('the checkpoint store', () => {
  it('keeps one checkpoint per run: the newest, with its spec, and removes the one it replaced', async () => {
    const store = freshStore();
    const checkpoints = checkpointStore({ store, storage: plenty });
    await checkpoints.save(entry('r1', 20));
    await checkpoints.save(entry('r2', 10));
    await checkpoints.save(entry('r1', 40));
    const loaded = await checkpoints.load('r1');
    expect(loaded?.step).toBe(40);
    expect(loaded?.spec.trainTexts).toEqual(['a b', 'c d']);
    expect(loaded?.checkpoint.position.step).toBe(40);
    expect([...(loaded?.checkpoint.tensors.get('param:a')?.data ?? [])]).toEqual([
      ...checkpointAt(40).tensors.get('param:a')!.data,
    ]);
    // Two pointers and two checkpoints: the step-20 checkpoint of r1 is gone.
    expect((await keys(store)).length).toBe(4);
    expect(await checkpoints.list()).toEqual(
      expect.arrayContaining([
        { runId: 'r1', step: 40, modelId: 'builtin-tiny-llama' },
        { runId: 'r2', step: 10, modelId: 'builtin-tiny-llama' },
      ]),
    );
    await checkpoints.remove('r1');
    expect(await checkpoints.load('r1')).toBeUndefined();
    expect((await keys(store)).length).toBe(2);
  });

  it('refuses a checkpoint that will not fit, keeping the previous one whole', async () => {
    const store = freshStore();
    let quota = 1e9;
    const storage: StorageAccess = { estimate: async () => ({ usage: 0, quota }) };
    const checkpoints = checkpointStore({ store, storage });
    await checkpoints.save(entry('r1', 20));
    // The estimate says no: nothing is written.
    quota = 100;
    const refused = checkpoints.save(entry('r1', 40, 1000));
    await expect(refused).rejects.toBeInstanceOf(StorageFullError);
    await expect(refused).rejects.toThrow(
      /checkpoint of run r1 at step 40: it needs 3\.9 KiB, and 100 B is left/,
    );
    expect((await checkpoints.load('r1'))?.step).toBe(20);

    // The estimate says yes but the write itself passes the quota: the half-written key goes.
    quota = 1e9;
    const state = { armed: true };
    const failing = checkpointStore({ store: quotaFailingStore(store, state), storage });
    await expect(failing.save(entry('r1', 60))).rejects.toBeInstanceOf(StorageFullError);
    state.armed = false;
    expect((await failing.load('r1'))?.step).toBe(20);
    expect((await failing.load('r1'))?.checkpoint.position.step).toBe(20);
    expect((await keys(store)).length).toBe(2);
  });

  it('clears a checkpoint no pointer names (a tab closed between writing it and flipping the pointer)', async () => {
    const store = freshStore();
    const checkpoints = checkpointStore({ store, storage: plenty, newKey: (id) => `state:${id}:fixed` });
    await checkpoints.save(entry('r1', 20));
    const { set } = await import('idb-keyval');
    await set('state:r1:orphan', checkpointAt(40), store);
    expect(await checkpoints.list()).toEqual([{ runId: 'r1', step: 20, modelId: 'builtin-tiny-llama' }]);
    expect((await keys(store)).map(String).sort()).toEqual(['run:r1', 'state:r1:fixed']);
  });
});
