/**
 * "Run at scale…" from the studio's setup: the zip holds the job folder, its dataset is exactly the
 * studio's split of the pasted rows, the method's hyperparameters reach the run config, and bottleneck
 * adapters are refused with the reason.
 */
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { builtinTinyLlama, configOf } from '../../models/model-catalogue';
import { splitValidation } from '../../state/read-dataset';
import { studioTrainDefaults } from '../../state/run-setup';
import { exportUnavailableReason, jobMethodOf, runConfigFor, scaleJobZip } from './run-at-scale';

const texts = Array.from({ length: 12 }, (_, i) => `Row ${i}: the stone is wet, stroke ${i * 7}.`);
const studioSwitches = { maskPrompt: true, packing: false };
const dora = { method: 'dora' as const, r: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'v_proj'] };

describe('run at scale', () => {
  it('zips train.py and the studio split of the dataset', async () => {
    const zip = unzipSync(
      await scaleJobZip({
        modelName: builtinTinyLlama.modelName,
        model: configOf(builtinTinyLlama),
        method: dora,
        train: studioTrainDefaults,
        data: { kind: 'texts', texts },
        ...studioSwitches,
      }),
    );
    expect(Object.keys(zip)).toEqual(
      expect.arrayContaining(['train.py', 'dataset/train.jsonl', 'README.md']),
    );
    const rows = (name: string) =>
      strFromU8(zip[name]!)
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { text: string }).text);
    const split = splitValidation(texts);
    expect(rows('dataset/train.jsonl')).toEqual(split.train);
    expect(rows('dataset/validation.jsonl')).toEqual(split.validation);
    const config = JSON.parse(strFromU8(zip['run-config.json']!));
    expect(config.method).toMatchObject({ method: 'lora', r: 4, alpha: 8, dropout: 0.1, useDora: true });
    expect(config.training.lr).toBe(studioTrainDefaults.lr);
  });

  it('hands a library file over as its bytes with the studio validation fraction', async () => {
    const lines = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ prompt: `Q${i}?`, completion: ` A${i}.` }),
    );
    const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`);
    const input = {
      modelName: 'm',
      model: configOf(builtinTinyLlama),
      method: { method: 'full' as const },
      train: studioTrainDefaults,
      data: {
        kind: 'file' as const,
        file: new Blob([bytes]),
        fileName: 'qa.jsonl',
        settings: { skipBadRows: false },
        format: 'jsonl' as const,
        examples: 20,
      },
      ...studioSwitches,
    };
    const run = await runConfigFor(input);
    expect(run.data).toMatchObject({ file: 'qa.jsonl', format: 'jsonl', validationFraction: 0.1 });
    const zip = unzipSync(await scaleJobZip(input));
    const count = (name: string) => strFromU8(zip[name]!).trim().split('\n').length;
    // ceil(0.1 × 20) held out by the same seeded split the worker uses.
    expect(count('dataset/validation.jsonl')).toBe(2);
    expect(count('dataset/train.jsonl')).toBe(18);
  });

  it("carries the setup's prompt-masking and packing switches into the job", async () => {
    for (const switches of [
      { maskPrompt: false, packing: true },
      { maskPrompt: true, packing: false },
    ]) {
      const input = {
        modelName: 'm',
        model: configOf(builtinTinyLlama),
        method: { method: 'full' as const },
        train: studioTrainDefaults,
        data: { kind: 'texts' as const, texts },
        ...switches,
      };
      expect((await runConfigFor(input)).data).toMatchObject(switches);
      const settings = JSON.parse(strFromU8(unzipSync(await scaleJobZip(input))['run-config.json']!));
      expect(settings.data).toMatchObject(switches);
    }
  });

  it('exports a QLoRA run as a job that loads its base 4-bit NF4', async () => {
    const input = {
      modelName: 'm',
      model: configOf(builtinTinyLlama),
      method: dora,
      train: studioTrainDefaults,
      data: { kind: 'texts' as const, texts },
      ...studioSwitches,
    };
    const zip = unzipSync(await scaleJobZip({ ...input, baseQuantization: 'nf4' }));
    expect(JSON.parse(strFromU8(zip['run-config.json']!)).model).toMatchObject({ quantization: 'nf4' });
    expect(strFromU8(zip['train.py']!)).toMatch(/BitsAndBytesConfig\(/);
    expect(strFromU8(zip['requirements.txt']!)).toMatch(/bitsandbytes==/);
    const plain = unzipSync(await scaleJobZip(input));
    expect(strFromU8(plain['train.py']!)).not.toMatch(/bitsandbytes|BitsAndBytes/i);
  });

  it('keeps every method PEFT has and refuses bottleneck adapters with the reason', async () => {
    expect(jobMethodOf({ method: 'prompt', numVirtualTokens: 5 })).toEqual({
      method: 'prompt',
      numVirtualTokens: 5,
    });
    for (const m of ['full', 'lora', 'dora', 'ia3', 'prefix', 'prompt'] as const)
      expect(exportUnavailableReason(m)).toBeNull();
    expect(exportUnavailableReason('adapter')).toMatch(/not a PEFT method/);
    const run = await runConfigFor({
      modelName: 'm',
      model: configOf(builtinTinyLlama),
      method: { method: 'adapter', reductionFactor: 8 },
      train: studioTrainDefaults,
      data: { kind: 'texts', texts },
      ...studioSwitches,
    });
    expect(run.method).toEqual({ method: 'adapter', reductionFactor: 8 });
    await expect(
      scaleJobZip({
        modelName: 'm',
        model: configOf(builtinTinyLlama),
        method: { method: 'adapter', reductionFactor: 8 },
        train: studioTrainDefaults,
        data: { kind: 'texts', texts },
        ...studioSwitches,
      }),
    ).rejects.toThrow(/adapter/i);
  });
});
