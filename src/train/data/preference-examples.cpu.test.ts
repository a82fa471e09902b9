/**
 * Preference rows (prompt, chosen, rejected) to examples: the schema detected before all others, explicit
 * and implicit prompts (TRL's extract_prompt) on strings and on message lists, and bad rows named by line.
 */
import { describe, expect, it } from 'vitest';
import { extractPrompt } from './examples';
import { DatasetRowError } from './jsonl';
import { loadDataset } from './load-dataset';
import { detectSchema, resolveSchema } from './schema';
import { bytesOf } from './testing/char-tokenizer';

const jsonl = (rows: unknown[]) => bytesOf(rows.map((r) => JSON.stringify(r)).join('\n'));
const load = (rows: unknown[], skipBadRows = false) => loadDataset('p.jsonl', jsonl(rows), { skipBadRows });
const user = (content: string) => ({ role: 'user', content });
const assistant = (content: string) => ({ role: 'assistant', content });

describe('the preference schema', () => {
  it.each([
    [
      ['prompt', 'chosen', 'rejected'],
      { kind: 'preference', columns: { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected' } },
    ],
    [['chosen', 'rejected'], { kind: 'preference', columns: { chosen: 'chosen', rejected: 'rejected' } }],
    // chosen and rejected win over every other schema's columns
    [
      ['messages', 'prompt', 'completion', 'chosen', 'rejected', 'text', 'label'],
      { kind: 'preference', columns: { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected' } },
    ],
  ])('detects %j first', (columns, expected) => {
    expect(detectSchema(columns)).toEqual(expected);
  });

  it('leaves files without both responses to the other schemas, and maps columns by hand', () => {
    expect(detectSchema(['prompt', 'completion']).kind).toBe('prompt-completion');
    expect(detectSchema(['prompt', 'chosen', 'text']).kind).toBe('text');
    expect(
      resolveSchema(['q', 'good', 'bad'], {
        kind: 'preference',
        columns: { prompt: 'q', chosen: 'good', rejected: 'bad' },
      }),
    ).toEqual({ kind: 'preference', columns: { prompt: 'q', chosen: 'good', rejected: 'bad' } });
  });
});

describe('preference examples', () => {
  it('keeps an explicit prompt as it is, in standard and conversational rows', async () => {
    const { examples } = await load([
      { prompt: 'The sky is', chosen: ' blue.', rejected: ' green.' },
      { prompt: [user('Sky?')], chosen: [assistant('Blue.')], rejected: [assistant('Green.')] },
    ]);
    expect(examples).toEqual([
      { kind: 'preference', line: 1, prompt: 'The sky is', chosen: ' blue.', rejected: ' green.' },
      {
        kind: 'preference',
        line: 2,
        prompt: [user('Sky?')],
        chosen: [assistant('Blue.')],
        rejected: [assistant('Green.')],
      },
    ]);
  });

  it('extracts an implicit string prompt as TRL does: the shared start, its last space going to the responses', async () => {
    const { examples } = await load([
      { chosen: 'The sky is blue.', rejected: 'The sky is green.' },
      { chosen: 'abc', rejected: 'abcd' }, // a prefix: the last shared character stays with the responses
      { chosen: 'yes', rejected: 'no' }, // nothing shared: an empty prompt
    ]);
    expect(examples.map((e) => e.kind === 'preference' && [e.prompt, e.chosen, e.rejected])).toEqual([
      ['The sky is', ' blue.', ' green.'],
      ['ab', 'c', 'cd'],
      ['', 'yes', 'no'],
    ]);
    // By code point, as Python indexes strings: an emoji is never split.
    expect(extractPrompt('a 😀x', 'a 😀y')).toEqual(['a 😀', 'x', 'y']);
  });

  it('extracts an implicit conversational prompt: the longest shared leading messages', async () => {
    const turns = [{ from: 'system', value: 'S' }, user('Hi'), assistant('Hello'), user('Sky?')];
    const { examples } = await load([
      { chosen: [...turns, assistant('Blue.')], rejected: [...turns, assistant('Green.')] },
      { chosen: [user('Q'), assistant('A')], rejected: [user('Q'), assistant('A'), user('more')] },
    ]);
    expect(examples[0]).toEqual({
      kind: 'preference',
      line: 1,
      prompt: [{ role: 'system', content: 'S' }, user('Hi'), assistant('Hello'), user('Sky?')],
      chosen: [assistant('Blue.')],
      rejected: [assistant('Green.')],
    });
    expect(examples[1]).toMatchObject({
      prompt: [user('Q')],
      chosen: [assistant('A')],
      rejected: [assistant('A'), user('more')],
    });
  });

  it('extracts the prompt of a row whose prompt cell is empty (null)', async () => {
    const { examples } = await load([
      { prompt: 'P', chosen: ' a', rejected: ' b' },
      { prompt: null, chosen: 'X a', rejected: 'X b' },
    ]);
    expect(examples[1]).toMatchObject({ prompt: 'X', chosen: ' a', rejected: ' b' });
  });

  it.each([
    [{ prompt: 'p', chosen: 'a' }, /p\.jsonl, line 2: the rejected response \(column "rejected"\) is empty/],
    [{ prompt: 'p', chosen: '', rejected: 'b' }, /line 2: the chosen response \(column "chosen"\) is empty/],
    [{ chosen: [], rejected: [assistant('b')] }, /line 2: the chosen response .* is empty/],
    [
      { chosen: [assistant('a')], rejected: 'b' },
      /line 2: "rejected" is text but "chosen" is a list of messages/,
    ],
    [{ prompt: 'p', chosen: [assistant('a')], rejected: [assistant('b')] }, /line 2: "prompt" is text but/],
    [
      { prompt: [user('p')], chosen: 'a', rejected: 'b' },
      /line 2: "prompt" is a list of messages but "chosen" is text/,
    ],
    [
      { chosen: [{ role: 'robot', content: 'a' }], rejected: [assistant('b')] },
      /line 2: message 1 of "chosen"/,
    ],
  ])('names the line and the field of a bad row: %j', async (bad, message) => {
    const rows = [{ prompt: 'p', chosen: 'a', rejected: 'b' }, bad];
    await expect(load(rows)).rejects.toThrow(DatasetRowError);
    await expect(load(rows)).rejects.toThrow(message);
    const skipped = await load(rows, true);
    expect(skipped.examples).toHaveLength(1);
    expect(skipped.badRows.map((e) => e.line)).toEqual([2]);
  });
});
