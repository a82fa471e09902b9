// A DPO run's dataset file becomes exactly the preference pairs `preparePreferenceData` makes from the
// same file (TRL's tokenization, the seeded split); data without pairs is refused by name.
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load-dataset';
import { preparePreferenceData } from '../data/preference-data';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { openModelBundle } from '../io/model-bundle';
import { filesFromMemory } from '../io/model-files';
import { defaultTrainConfig } from '../train-config';
import { loadRunData, PreferenceDataError, RunDataError, runPairs } from './run-data';
import type { RunSpec } from './run-spec';

const files = tinyModelFiles({ family: 'llama', hiddenSize: 32, layers: 1 });
const bundle = () => openModelBundle(filesFromMemory(files, 'tiny-llama'));
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');
const pairRows = Array.from({ length: 10 }, (_, i) => ({
  prompt: `count from ${i}:`,
  chosen: ` ${i + 1} ${i + 2}`,
  rejected: ` ${i} ${i}`,
}));

function fileSpec(name: string, text: string, seqLen = 64): RunSpec {
  return {
    modelFiles: {},
    modelName: 'tiny-llama',
    method: { method: 'lora', r: 2, alpha: 4, dropout: 0 },
    train: { ...defaultTrainConfig, seqLen, seed: 3, preference: { beta: 0.1 } },
    data: { file: { blob: new Blob([text]), fileName: name, skipBadRows: false }, validationFraction: 0.2 },
  };
}

describe('a DPO run spec', () => {
  it('trains on the pairs the data layer prepares from the same file', async () => {
    const { tokenizer, generation } = await bundle();
    const eos = generation.eosTokenIds[0];
    const pairs = runPairs(await loadRunData(fileSpec('pairs.jsonl', jsonl(pairRows))), tokenizer, eos);
    const direct = preparePreferenceData(
      await loadDataset('pairs.jsonl', new TextEncoder().encode(jsonl(pairRows))),
      tokenizer,
      { seqLen: 64, eosTokenId: eos, validationFraction: 0.2, seed: 3 },
    );
    expect(pairs.train).toEqual(direct.train);
    expect(pairs.validation).toEqual(direct.validation);
    expect(pairs.train).toHaveLength(8);
    expect(pairs.validation).toHaveLength(2);
    // Both sides share the prompt, masked; only the responses are scored.
    const first = pairs.train[0];
    const promptLength = first?.chosen.labels?.findIndex((l) => l !== -100) ?? -1;
    expect(promptLength).toBeGreaterThan(3);
    expect(first?.rejected.ids.slice(0, promptLength)).toEqual(first?.chosen.ids.slice(0, promptLength));
  });

  it('refuses a chat file by name, naming its rows', async () => {
    const { tokenizer } = await bundle();
    const chat = [
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
      },
    ];
    const spec = await loadRunData(fileSpec('chat.jsonl', jsonl(chat)));
    expect(() => runPairs(spec, tokenizer)).toThrow(PreferenceDataError);
    expect(() => runPairs(spec, tokenizer)).toThrow(/"chat" rows \(line 1\).*preference schema/);
  });

  it('refuses pasted plain text by name', async () => {
    const { tokenizer } = await bundle();
    const { data: _data, ...rest } = fileSpec('x.jsonl', '');
    const spec: RunSpec = { ...rest, trainTexts: ['some text'] };
    expect(() => runPairs(spec, tokenizer)).toThrow(PreferenceDataError);
  });

  it('says to raise the sequence length when every prompt fills it', async () => {
    const { tokenizer } = await bundle();
    const spec = await loadRunData(fileSpec('pairs.jsonl', jsonl(pairRows), 4));
    expect(() => runPairs(spec, tokenizer)).toThrow(RunDataError);
    expect(() => runPairs(spec, tokenizer)).toThrow(/raise the sequence length/);
  });
});
