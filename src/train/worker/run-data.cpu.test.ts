// A studio run's dataset file becomes exactly the token rows and labels `whetstone train` makes from the
// same file: the worker reads the Blob with the streaming loader and prepares it with the chat template,
// prompt masking (-100 on prompt tokens) and the seeded validation split.
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load-dataset';
import { prepareTrainingData } from '../data/training-data';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { openModelBundle } from '../io/model-bundle';
import { filesFromMemory } from '../io/model-files';
import { defaultTrainConfig } from '../train-config';
import { loadRunData, RunDataError, runExamples } from './run-data';
import type { RunSpec } from './run-spec';

const files = tinyModelFiles({ family: 'llama', hiddenSize: 32, layers: 1 });
const bundle = () => openModelBundle(filesFromMemory(files, 'tiny-llama'));

const chatRows = Array.from({ length: 13 }, (_, i) => ({
  messages: [
    { role: 'user', content: `question ${i}?` },
    { role: 'assistant', content: `answer ${i}` },
  ],
}));
const alpacaRows = Array.from({ length: 9 }, (_, i) => ({
  instruction: `say ${i}`,
  input: i % 2 ? `with ${i}` : '',
  output: `${i} said`,
}));
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');

function fileSpec(name: string, text: string, seqLen = 160): RunSpec {
  return {
    modelFiles: {},
    modelName: 'tiny-llama',
    method: { method: 'lora', r: 2, alpha: 4, dropout: 0 },
    train: { ...defaultTrainConfig, seqLen, seed: 5 },
    data: { file: { blob: new Blob([text]), fileName: name, skipBadRows: false }, validationFraction: 0.2 },
  };
}

describe('a run spec with a dataset file', () => {
  for (const [name, rows] of [
    ['chat.jsonl', chatRows],
    ['alpaca.jsonl', alpacaRows],
  ] as const) {
    it(`trains ${name} with prompt tokens masked, exactly as the CLI prepares it`, async () => {
      const { tokenizer, generation } = await bundle();
      const eos = generation.eosTokenIds[0];
      const spec = await loadRunData(fileSpec(name, jsonl(rows)));
      expect(spec.data?.file).toBeUndefined();
      expect(spec.data?.examples).toHaveLength(rows.length);
      const studio = runExamples(spec, tokenizer, eos);

      const cli = prepareTrainingData(
        await loadDataset(name, new TextEncoder().encode(jsonl(rows))),
        tokenizer,
        { seqLen: 160, eosTokenId: eos, maskPrompt: true, packing: false, validationFraction: 0.2, seed: 5 },
      );
      expect(studio.train).toEqual(cli.train);
      expect(studio.validation).toEqual(cli.validation);
      expect(studio.validation).toHaveLength(Math.ceil(0.2 * rows.length));
      // Every row starts with masked prompt tokens and trains on some completion tokens after them.
      for (const row of studio.train) {
        const labels = row.labels ?? [];
        expect(labels[0]).toBe(-100);
        const firstTrained = labels.findIndex((l) => l !== -100);
        expect(firstTrained).toBeGreaterThan(3);
        expect(labels[firstTrained]).toBe(row.ids[firstTrained]);
      }
    });
  }

  it('trains on prompt tokens too when the person turns masking off', async () => {
    const { tokenizer, generation } = await bundle();
    const base = fileSpec('chat.jsonl', jsonl(chatRows));
    const spec = await loadRunData({
      ...base,
      data: { ...(base.data as object), maskPrompt: false } as never,
    });
    const { train } = runExamples(spec, tokenizer, generation.eosTokenIds[0]);
    for (const row of train) expect((row.labels ?? row.ids).filter((l) => l === -100)).toHaveLength(0);
  });

  it('reads plain text the way the person chose, and names a bad row by its line', async () => {
    const { tokenizer } = await bundle();
    const text = 'one block\n\nanother block\n\nthird block\n\nfourth block\n\nfifth';
    const spec = await loadRunData({
      ...fileSpec('notes.txt', text),
      data: { file: { blob: new Blob([text]), fileName: 'notes.txt' }, textMode: 'blocks' },
    });
    expect(spec.data?.examples?.map((e) => (e.kind === 'text' ? e.text : ''))).toEqual([
      'one block',
      'another block',
      'third block',
      'fourth block',
      'fifth',
    ]);
    expect(runExamples(spec, tokenizer).train).toHaveLength(5);
    await expect(loadRunData(fileSpec('bad.jsonl', '{"text":"ok"}\n{"text": oops}\n'))).rejects.toThrow(
      /line 2/,
    );
    const skipped = await loadRunData({
      ...fileSpec('bad.jsonl', ''),
      data: {
        file: {
          blob: new Blob(['{"text":"ok"}\n{"text": oops}\n{"text":"fine"}\n']),
          fileName: 'bad.jsonl',
          skipBadRows: true,
        },
      },
    });
    expect(skipped.data?.examples).toHaveLength(2);
    expect(() => runExamples({ ...skipped, data: { file: skipped.data?.file } } as never, tokenizer)).toThrow(
      RunDataError,
    );
  });
});
