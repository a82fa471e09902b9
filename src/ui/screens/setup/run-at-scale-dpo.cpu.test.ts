/**
 * "Run at scale…" for a DPO run: the studio's `train.preference` reaches the run config's training section,
 * the zip holds TRL's DPOTrainer job on the file's pairs split as the worker splits them, prompt masking
 * and packing take their DPO values whatever the switches say, and what the job cannot run is said.
 */
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { splitTrainValidation } from '../../../train/data/split';
import { builtinTinyLlama, configOf } from '../../models/model-catalogue';
import { studioTrainDefaults, studioValidationFraction } from '../../state/run-setup';
import { exportUnavailableReason, runConfigFor, scaleJobZip } from './run-at-scale';

const pairRows = Array.from({ length: 20 }, (_, i) => ({
  prompt: `Q${i}?`,
  chosen: ` yes ${i}`,
  rejected: ` no ${i}`,
}));
const bytes = new TextEncoder().encode(`${pairRows.map((r) => JSON.stringify(r)).join('\n')}\n`);
const dpoTrain = { ...studioTrainDefaults, lr: 5e-6, preference: { beta: 0.3 } };

const input = {
  modelName: 'm',
  model: configOf(builtinTinyLlama),
  method: { method: 'lora' as const, r: 4, alpha: 8, dropout: 0 },
  train: dpoTrain,
  data: {
    kind: 'file' as const,
    file: new Blob([bytes]),
    fileName: 'pairs.jsonl',
    settings: { skipBadRows: false, schema: { kind: 'preference' as const } },
    format: 'jsonl' as const,
    examples: 20,
  },
  // Switches left on for SFT: a DPO run neither packs nor trains its prompts.
  maskPrompt: false,
  packing: true,
};

describe('run at scale, DPO', () => {
  it("writes the studio's β into the run config and zips a DPOTrainer job on the pairs", async () => {
    const run = await runConfigFor(input);
    expect(run.training.preference).toEqual({ beta: 0.3 });
    expect(run.data).toMatchObject({
      maskPrompt: true,
      packing: false,
      validationFraction: studioValidationFraction,
    });
    const zip = unzipSync(await scaleJobZip(input));
    const text = (name: string) => strFromU8(zip[name] ?? new Uint8Array());
    expect(JSON.parse(text('run-config.json')).training).toMatchObject({
      preference: { beta: 0.3 },
      lr: 5e-6,
    });
    expect(text('train.py')).toContain('from trl import DPOConfig, DPOTrainer');
    expect(text('train.py')).toContain('"beta": 0.3,');
    expect(text('train.py')).toContain('"learning_rate": 5e-06,');
    const lines = (name: string) =>
      text(name)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown);
    const split = splitTrainValidation(pairRows, {
      validationFraction: studioValidationFraction,
      seed: studioTrainDefaults.seed,
    });
    expect(lines('dataset/train.jsonl')).toEqual(split.train);
    expect(lines('dataset/validation.jsonl')).toEqual(split.validation);
    expect(text('README.md')).toContain('lora DPO (β 0.3)');

    // The same setup as SFT keeps its switches and trains the chosen responses.
    const { preference: _, ...sftTrain } = dpoTrain;
    const sft = await runConfigFor({ ...input, train: sftTrain });
    expect(sft.data).toMatchObject({ maskPrompt: false, packing: true });
    expect(sft.training).not.toHaveProperty('preference');
  });

  it('refuses pasted texts and says prompt tuning cannot run under DPO', async () => {
    await expect(
      scaleJobZip({ ...input, data: { kind: 'texts', texts: ['one', 'two', 'three', 'four', 'five'] } }),
    ).rejects.toThrow(/a DPO run trains on preference pairs/);
    expect(exportUnavailableReason('prompt', undefined, { dpo: true })).toMatch(
      /DPOTrainer cannot score prompt tuning/,
    );
    for (const m of ['full', 'lora', 'dora', 'ia3', 'prefix'] as const)
      expect(exportUnavailableReason(m, undefined, { dpo: true })).toBeNull();
    expect(exportUnavailableReason('prompt')).toBeNull();
    await expect(
      scaleJobZip({ ...input, method: { method: 'prompt', numVirtualTokens: 4 } }),
    ).rejects.toThrow(/Prompt tuning cannot be exported as a DPO job/);
  });
});
