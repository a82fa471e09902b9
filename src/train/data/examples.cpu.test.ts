import { describe, expect, it } from 'vitest';
import { type Example, toExamples } from './examples';
import type { RawDataset } from './formats';
import { DatasetLabelError, labelIds, labelSetOf } from './labels';
import { loadDataset } from './load-dataset';
import type { DatasetRow } from './rows';
import { detectSchema } from './schema';
import { bytesOf } from './testing/char-tokenizer';

function dataset(values: Record<string, unknown>[]): RawDataset {
  const rows: DatasetRow[] = values.map((value, i) => ({ line: i + 1, value }));
  return {
    file: 'd.jsonl',
    format: 'jsonl',
    unit: 'line',
    columns: Object.keys(values[0] ?? {}),
    rows,
    badRows: [],
  };
}
const examplesOf = (values: Record<string, unknown>[]) => {
  const d = dataset(values);
  return toExamples(d, detectSchema(d.columns)).examples;
};

describe('rows to examples', () => {
  it('maps ShareGPT speakers to chat roles', () => {
    const conversations = [
      { from: 'system', value: 'Be brief.' },
      { from: 'human', value: 'Hi' },
      { from: 'gpt', value: 'Hello.' },
    ];
    expect(examplesOf([{ conversations }])).toEqual([
      {
        kind: 'chat',
        line: 1,
        trainFrom: 0,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello.' },
        ],
      },
    ]);
  });

  it('turns Alpaca rows into a user turn (instruction, blank line, input) and an assistant turn', () => {
    expect(
      examplesOf([
        { instruction: 'Add.', input: '1, 2', output: '3' },
        { instruction: 'Say hi.', input: '', output: 'hi' },
      ]).map((e) => e.kind === 'chat' && e.messages),
    ).toEqual([
      [
        { role: 'user', content: 'Add.\n\n1, 2' },
        { role: 'assistant', content: '3' },
      ],
      [
        { role: 'user', content: 'Say hi.' },
        { role: 'assistant', content: 'hi' },
      ],
    ]);
  });

  it('keeps string prompt/completion as is, and makes message-list prompt/completion a chat trained from the completion', () => {
    expect(examplesOf([{ prompt: 'Q: 1+1\nA:', completion: ' 2' }])).toEqual([
      { kind: 'prompt-completion', line: 1, prompt: 'Q: 1+1\nA:', completion: ' 2' },
    ]);
    const prompt = [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'c' },
    ];
    const [chat] = examplesOf([{ prompt, completion: [{ role: 'assistant', content: 'd' }] }]);
    expect(chat).toMatchObject({ kind: 'chat', trainFrom: 3 });
  });

  it('reads sentence pairs, and integer-like string labels (CSV cells) as numbers', () => {
    const d = dataset([
      { Quality: '1', '#1 String': 'a', '#2 String': 'b' },
      { Quality: '0', '#1 String': 'c', '#2 String': 'd' },
    ]);
    d.columns = ['Quality', '#1 String', '#2 String'];
    expect(toExamples(d, detectSchema(d.columns)).examples).toEqual([
      { kind: 'classification', line: 1, text: 'a', textPair: 'b', label: 1 },
      { kind: 'classification', line: 2, text: 'c', textPair: 'd', label: 0 },
    ]);
  });

  it('names the line and the problem of a row that does not fit its schema, or skips and counts it', () => {
    const rows = [
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'yo' },
        ],
      },
      { messages: [{ role: 'wizard', content: 'hi' }] },
      { messages: 'hello' },
      { messages: [{ role: 'user', content: 'no answer' }] },
    ];
    const d = dataset(rows);
    expect(() => toExamples(d, detectSchema(d.columns))).toThrow(
      /d\.jsonl, line 2: message 1 of "messages" has the role "wizard"; known roles: human, user, gpt/,
    );
    const { examples, badRows } = toExamples(d, detectSchema(d.columns), { skipBadRows: true });
    expect(examples).toHaveLength(1);
    expect(badRows.map((e) => [e.line, e.detail])).toEqual([
      [2, expect.stringContaining('has the role "wizard"')],
      [3, 'the column "messages" is not a list of messages'],
      [4, '"messages" has no assistant message to train on'],
    ]);
    expect(() => examplesOf([{ text: 'a' }, { text: null }])).toThrow(/line 2: the column "text" is empty/);
    expect(() =>
      examplesOf([
        { text: 'a', label: 1 },
        { text: 'b', label: { x: 1 } },
      ]),
    ).toThrow(/line 2: the label column "label" is not a label/);
  });
});

describe('labels', () => {
  const classified = (labels: (string | number)[]) =>
    labels.map(
      (label, i) => ({ kind: 'classification', line: i + 1, text: `t${i}`, label }) as const,
    ) satisfies Example[];

  it('takes the label set from the data, sorted as class_encode_column sorts it', () => {
    expect(labelSetOf(classified([2, 10, 1, 2]))).toEqual([1, 2, 10]);
    expect(labelSetOf(classified(['pos', 'neg', 'neutral']))).toEqual(['neg', 'neutral', 'pos']);
    expect(labelIds(classified(['pos', 'neg'])).ids).toEqual([1, 0]);
  });

  it('names a label that is not in the given label set', () => {
    expect(() => labelIds(classified([0, 1, 2]), { labelSet: [0, 1], file: 'dev.tsv' })).toThrow(
      'dev.tsv, line 3: the label 2 is not in the label set [0, 1]: t2',
    );
    const skipped = labelIds(classified([0, 1, 2]), { labelSet: [0, 1], skipBadRows: true });
    expect([skipped.ids, skipped.badRows.length]).toEqual([[0, 1], 1]);
    expect(skipped.badRows[0]).toBeInstanceOf(DatasetLabelError);
    expect(skipped.badRows[0]).toMatchObject({
      name: 'DatasetLabelError',
      label: 2,
      labelSet: [0, 1],
      line: 3,
    });
  });
});

describe('loading a file end to end', () => {
  it('detects MRPC, or takes the person’s schema and reports bad rows from reading and from the schema', async () => {
    const tsv = 'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\t"A" .\tB .\n';
    const mrpc = await loadDataset('msr_paraphrase_test.txt', bytesOf(tsv));
    expect(mrpc).toMatchObject({
      format: 'tsv',
      schemaDetected: true,
      rows: 1,
      schema: { kind: 'sentence-pair' },
    });
    expect(mrpc.examples).toEqual([
      { kind: 'classification', line: 2, text: '"A" .', textPair: 'B .', label: 1 },
    ]);

    const jsonl = '{"q": "a", "a": "b"}\nbroken\n{"q": "c"}\n';
    const loaded = await loadDataset('qa.jsonl', bytesOf(jsonl), {
      schema: { kind: 'prompt-completion', columns: { prompt: 'q', completion: 'a' } },
      skipBadRows: true,
    });
    expect(loaded).toMatchObject({ schemaDetected: false, rows: 3 });
    expect(loaded.examples).toHaveLength(1);
    expect(loaded.badRows.map((e) => e.message)).toEqual([
      'qa.jsonl, line 2: not valid JSON: broken',
      'qa.jsonl, line 3: the column "a" is empty: {"q":"c"}',
    ]);
  });
});
