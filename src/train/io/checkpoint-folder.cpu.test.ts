/**
 * Checkpoints on disk (checkpoint-folder.ts) and the resume check (checkpoint-resume.ts): a written
 * checkpoint reads back bit for bit; the latest complete one is found; a crashed write (a stray
 * temporary folder, a folder missing a file) never hides or replaces the last good checkpoint; and a
 * resume with other settings, method, method settings (LoRA's rank, alpha, dropout, targets) or data is
 * refused by name, while a checkpoint written before method settings were stored still resumes.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkResumable, trainingDataFingerprint } from '../checkpoint-resume';
import {
  CheckpointError,
  type CheckpointState,
  checkpointFiles,
  readCheckpoint,
  trainerStateFile,
} from '../checkpoint-state';
import { defaultTrainConfig, type TrainConfig } from '../train-config';
import { checkpointSteps, readLatestCheckpoint, writeCheckpointFolder } from './checkpoint-folder';

const config: TrainConfig = { ...defaultTrainConfig, steps: 8, lr: 1e-3 };

function state(step: number, fill: number): CheckpointState {
  return {
    position: { step, epoch: 1, queue: [[2], [0, 3]] },
    config,
    method: 'lora',
    dataFingerprint: 'abc',
    tensors: new Map([
      ['param:a', { shape: [2, 3], data: Float32Array.from({ length: 6 }, (_, i) => fill + i / 7) }],
      ['exp_avg:a', { shape: [2, 3], data: Float32Array.from({ length: 6 }, (_, i) => -fill * i) }],
    ]),
  };
}

describe('checkpoint folders', () => {
  it('write then read gives the same state, from the latest complete checkpoint', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'whetstone-ckpt-')), 'checkpoints');
    writeCheckpointFolder(dir, state(2, 1));
    writeCheckpointFolder(dir, state(4, 2));
    expect(checkpointSteps(dir)).toEqual([2, 4]);
    const { folder, state: read } = readLatestCheckpoint(dir);
    expect(folder).toBe(join(dir, 'checkpoint-4'));
    const want = state(4, 2);
    expect(read.position).toEqual(want.position);
    expect(read.config).toEqual(want.config);
    expect(read.method).toBe('lora');
    expect(read.dataFingerprint).toBe('abc');
    expect([...read.tensors.keys()]).toEqual([...want.tensors.keys()]);
    for (const [name, t] of want.tensors) expect(read.tensors.get(name)?.data).toEqual(t.data);
  });

  it('a crashed write leaves the last good checkpoint as the one resumed, and is cleared later', () => {
    const dir = mkdtempSync(join(tmpdir(), 'whetstone-ckpt-'));
    writeCheckpointFolder(dir, state(2, 1));
    // What a crash mid-write leaves: a temporary folder with a truncated file, and (from a copy by
    // hand, say) a checkpoint folder missing its tensors.
    mkdirSync(join(dir, '.checkpoint-4.tmp-999'));
    writeFileSync(join(dir, '.checkpoint-4.tmp-999', trainerStateFile), '{"posi');
    mkdirSync(join(dir, 'checkpoint-6'));
    writeFileSync(join(dir, 'checkpoint-6', trainerStateFile), '{}');
    expect(checkpointSteps(dir)).toEqual([2]);
    expect(readLatestCheckpoint(dir).state.position.step).toBe(2);
    // Rewriting a step replaces it whole; the stray temporary folder is gone.
    writeCheckpointFolder(dir, state(2, 5));
    expect(readLatestCheckpoint(dir).state.tensors.get('param:a')?.data[0]).toBe(5);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('no checkpoint to resume from is a CheckpointError that says what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'whetstone-ckpt-'));
    expect(() => readLatestCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => readLatestCheckpoint(join(dir, 'absent'))).toThrow(/--checkpoint-every N/);
  });
});

describe('resume check', () => {
  const saved = state(2, 1);
  const now = { method: 'lora', config, dataFingerprint: 'abc' };

  it('accepts the same run, with only the memory budget, eval cadence or recomputation changed', () => {
    expect(() => checkResumable(saved, now, 'ckpt')).not.toThrow();
    const relaxed = { ...config, memoryBudgetBytes: 1 << 30, evalEvery: 3, gradientCheckpointing: true };
    expect(() => checkResumable(saved, { ...now, config: relaxed }, 'ckpt')).not.toThrow();
  });

  it('refuses other settings, naming each with both values', () => {
    const other = { ...config, lr: 2e-3, seed: 7 };
    expect(() => checkResumable(saved, { ...now, config: other }, 'ckpt')).toThrow(
      /seed \(checkpoint 42, now 7\)/,
    );
    expect(() => checkResumable(saved, { ...now, config: other }, 'ckpt')).toThrow(
      /lr \(checkpoint 0\.001, now 0\.002\)/,
    );
    expect(() => checkResumable(saved, { ...now, method: 'dora' }, 'ckpt')).toThrow(
      /is a lora run; this run is dora/,
    );
    expect(() => checkResumable(saved, { ...now, dataFingerprint: 'abd' }, 'ckpt')).toThrow(/other data/);
  });

  it('refuses other method settings by name, after a round trip on disk; older checkpoints still resume', () => {
    const lora = { r: 8, alpha: 16, dropout: 0.1, targetModules: ['q_proj', 'v_proj'], useRslora: false };
    const dir = join(mkdtempSync(join(tmpdir(), 'whetstone-ckpt-')), 'checkpoints');
    writeCheckpointFolder(dir, { ...state(2, 1), methodSettings: lora });
    const read = readLatestCheckpoint(dir).state;
    expect(read.methodSettings).toEqual(lora);
    expect(() => checkResumable(read, { ...now, methodSettings: { ...lora } }, 'ckpt')).not.toThrow();
    const refused = (changed: Record<string, unknown>) => () =>
      checkResumable(read, { ...now, methodSettings: { ...lora, ...changed } }, 'ckpt');
    expect(refused({ r: 4 })).toThrow(CheckpointError);
    expect(refused({ r: 4 })).toThrow(/ckpt was written with other lora settings: r \(checkpoint 8, now 4\)/);
    expect(refused({ alpha: 32, dropout: 0 })).toThrow(
      /alpha \(checkpoint 16, now 32\); dropout \(checkpoint 0\.1, now 0\)/,
    );
    expect(refused({ targetModules: 'all-linear' })).toThrow(
      /targetModules \(checkpoint \["q_proj","v_proj"\], now "all-linear"\)/,
    );
    // A setting only one side has is a difference too.
    expect(refused({ useRslora: undefined })).toThrow(/useRslora \(checkpoint false, now unset\)/);
    // Written before method settings were stored: nothing to compare, so it resumes.
    const older = readCheckpoint(checkpointFiles(state(2, 1)));
    expect(older.methodSettings).toBeUndefined();
    expect(() => checkResumable(older, { ...now, methodSettings: { ...lora, r: 4 } }, 'ckpt')).not.toThrow();
    // A malformed methodSettings is refused when read.
    const files = checkpointFiles(state(2, 1));
    const json = JSON.parse(new TextDecoder().decode(files[trainerStateFile]));
    files[trainerStateFile] = new TextEncoder().encode(JSON.stringify({ ...json, methodSettings: [1] }));
    expect(() => readCheckpoint(files)).toThrow(/methodSettings must be an object/);
  });

  it('fingerprints tell data apart by ids, labels and order', () => {
    const a = [{ ids: [1, 2, 3] }, { ids: [4] }];
    const f = trainingDataFingerprint(a);
    expect(f).toMatch(/^[0-9a-f]{16}$/);
    expect(trainingDataFingerprint([{ ids: [1, 2, 3] }, { ids: [4] }])).toBe(f);
    expect(trainingDataFingerprint([{ ids: [4] }, { ids: [1, 2, 3] }])).not.toBe(f);
    expect(trainingDataFingerprint([{ ids: [1, 2, 3], labels: [-100, 2, 3] }, { ids: [4] }])).not.toBe(f);
    expect(trainingDataFingerprint([{ ids: [1, 2] }, { ids: [3, 4] }])).not.toBe(f);
  });
});
