// The exported dataset is exactly the examples and split the browser run trained on: the rows of
// dataset/train.jsonl and dataset/validation.jsonl, read back, are splitTrainValidation's output on the
// same examples and seed (the split prepareTrainingData makes), in order, and nothing else.
import { describe, expect, it } from 'vitest';
import type { Example } from '../data/examples';
import { loadDataset } from '../data/load-dataset';
import { splitTrainValidation } from '../data/split';
import { ExportJobError, exportJob, jobDataset, parseRunConfig } from './index';
import { jsonlBytes, tinyDecoder } from './testing/run-fixtures';

const readJsonl = (text: string | undefined) =>
  (text ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The JSONL row an example must become (TRL's dataset formats). */
function expectedRow(e: Example, promptCompletion = false): Record<string, unknown> {
  if (e.kind === 'text') return { text: e.text };
  if (e.kind === 'prompt-completion') return { prompt: e.prompt, completion: e.completion };
  if (e.kind === 'chat')
    return promptCompletion
      ? { prompt: e.messages.slice(0, e.trainFrom), completion: e.messages.slice(e.trainFrom) }
      : { messages: e.messages };
  throw new Error('classification has no row');
}

const chat = Array.from({ length: 23 }, (_, i) => ({
  conversations: [
    { from: 'human', value: `q${i} ü` },
    { from: 'gpt', value: `a${i}` },
    ...(i % 3 === 0
      ? [
          { from: 'human', value: `more ${i}` },
          { from: 'gpt', value: `sure ${i}` },
        ]
      : []),
  ],
}));

describe('exported dataset', () => {
  it('holds exactly the seeded split of the run, in file order', async () => {
    const loaded = await loadDataset('chat.jsonl', jsonlBytes(chat));
    const files = await exportJob({
      run: parseRunConfig({
        model: { id: 'm' },
        method: { method: 'lora' },
        training: { seed: 77 },
        data: { file: 'chat.jsonl', validationFraction: 0.2 },
      }),
      model: tinyDecoder('llama'),
      dataset: { name: 'chat.jsonl', bytes: jsonlBytes(chat) },
    });
    const expected = splitTrainValidation(loaded.examples, { validationFraction: 0.2, seed: 77 });
    const train = readJsonl(files['dataset/train.jsonl']);
    const validation = readJsonl(files['dataset/validation.jsonl']);
    expect(validation).toHaveLength(Math.ceil(0.2 * 23));
    expect(train).toEqual(expected.train.map((e) => expectedRow(e)));
    expect(validation).toEqual(expected.validation.map((e) => expectedRow(e)));
    // ShareGPT speakers became chat roles, and every source row is on exactly one side.
    for (const row of [...train, ...validation])
      for (const [i, m] of (row.messages as { role: string }[]).entries())
        expect(m.role).toBe(i % 2 === 0 ? 'user' : 'assistant');
    const firstWords = [...train, ...validation].map(
      (r) => (r.messages as { content: string }[])[0]?.content,
    );
    expect(new Set(firstWords).size).toBe(23);
    // Another seed holds out other examples, so the seed really decides.
    const other = jobDataset(loaded, undefined, { validationFraction: 0.2, seed: 78 });
    expect(readJsonl(other.validationJsonl)).not.toEqual(validation);
  });

  it('takes a validation file as it is, with no split', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ prompt: `p${i}`, completion: ` c${i}` }));
    const loaded = await loadDataset('pc.jsonl', jsonlBytes(rows));
    const valid = await loadDataset('valid.jsonl', jsonlBytes(rows.slice(0, 2)));
    const data = jobDataset(loaded, valid, { validationFraction: 0.5, seed: 1 });
    expect(data.shape).toBe('prompt-completion');
    expect(readJsonl(data.trainJsonl)).toEqual(rows);
    expect(readJsonl(data.validationJsonl)).toEqual(rows.slice(0, 2));
  });

  it('writes conversational prompt-completion rows with the trained part as the completion', async () => {
    const rows = [
      {
        prompt: [{ role: 'user', content: 'hi' }],
        completion: [{ role: 'assistant', content: 'hello' }],
      },
      { prompt: [], completion: [{ role: 'assistant', content: 'alone' }] },
    ];
    const loaded = await loadDataset('conv.jsonl', jsonlBytes(rows));
    const data = jobDataset(loaded, undefined, { validationFraction: 0, seed: 3 });
    expect(data.shape).toBe('conversation');
    expect(readJsonl(data.trainJsonl)).toEqual(loaded.examples.map((e) => expectedRow(e, true)));
    expect(readJsonl(data.trainJsonl)[0]).toEqual(rows[0]);
  });

  it('writes plain text by blocks as text rows', async () => {
    const text = new TextEncoder().encode('first block\nstill first\n\nsecond\n\n\nthird');
    const loaded = await loadDataset('notes.txt', text);
    const data = jobDataset(loaded, undefined, { validationFraction: 0, seed: 0 });
    expect(readJsonl(data.trainJsonl)).toEqual([
      { text: 'first block\nstill first' },
      { text: 'second' },
      { text: 'third' },
    ]);
    expect(data.validationJsonl).toBe('');
  });

  it('refuses classification rows, text read whole and mixed shapes, saying why', async () => {
    const classification = await loadDataset('cls.jsonl', jsonlBytes([{ text: 'good', label: 1 }]));
    expect(() => jobDataset(classification, undefined, { validationFraction: 0, seed: 0 })).toThrow(
      /classifier head/,
    );
    const whole = await loadDataset('book.txt', new TextEncoder().encode('a\n\nb'), { textMode: 'whole' });
    expect(() => jobDataset(whole, undefined, { validationFraction: 0.1, seed: 0 })).toThrow(ExportJobError);
    expect(() => jobDataset(whole, undefined, { validationFraction: 0.1, seed: 0 })).toThrow(/blocks/);
    const mixed = await loadDataset(
      'mixed.jsonl',
      jsonlBytes([
        { prompt: 'p', completion: 'c' },
        { prompt: [{ role: 'user', content: 'u' }], completion: [{ role: 'assistant', content: 'a' }] },
      ]),
    );
    expect(() => jobDataset(mixed, undefined, { validationFraction: 0, seed: 0 })).toThrow(/line 2/);
  });
});
