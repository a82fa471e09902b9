import { describe, expect, it } from 'vitest';
import { parseJsonl } from '../../train/data/jsonl';
import type { PlaygroundColumn } from './playground-slice';
import {
  appendJsonlRow,
  canMarkAnswers,
  keptPairsLine,
  markedPair,
  preferenceFileNameOf,
  preferenceRow,
} from './preference-pair';

const column = (key: string, text: string, change: Partial<PlaygroundColumn> = {}): PlaygroundColumn => ({
  key,
  label: key.toUpperCase(),
  color: 'red',
  status: 'done',
  text,
  templated: true,
  ...change,
});

describe('a preference pair from the playground', () => {
  it('is conversational when both answers went through the chat template, else plain strings', () => {
    const chat = preferenceRow('Hi?', column('a', 'Hello!'), column('b', 'Go away.'));
    expect(chat).toEqual({
      prompt: [{ role: 'user', content: 'Hi?' }],
      chosen: [{ role: 'assistant', content: 'Hello!' }],
      rejected: [{ role: 'assistant', content: 'Go away.' }],
    });
    expect(preferenceFileNameOf(chat)).toBe('playground-preferences.jsonl');
    // A raw answer continues the prompt: kept exactly, leading space and all.
    const raw = { templated: false };
    const plain = preferenceRow('The quick', column('a', ' brown fox', raw), column('b', ' red', raw));
    expect(plain).toEqual({ prompt: 'The quick', chosen: ' brown fox', rejected: ' red' });
    expect(preferenceFileNameOf(plain)).toBe('playground-preferences-raw.jsonl');
    // One templated answer and one raw: the strings, true to the raw one.
    expect(preferenceRow('Hi?', column('a', 'Hello!'), column('b', ' there', raw))).toEqual({
      prompt: 'Hi?',
      chosen: 'Hello!',
      rejected: ' there',
    });
  });

  it('is appended as the last line of its file, every earlier line left as it was', () => {
    const first = appendJsonlRow('', { prompt: 'a', chosen: 'b', rejected: 'c' });
    expect(first).toBe('{"prompt":"a","chosen":"b","rejected":"c"}\n');
    const second = appendJsonlRow(first, { prompt: 'd\n"e"', chosen: 'f', rejected: 'g' });
    expect(second.startsWith(first)).toBe(true);
    expect(parseJsonl(second).map((row) => row.value)).toEqual([
      { prompt: 'a', chosen: 'b', rejected: 'c' },
      { prompt: 'd\n"e"', chosen: 'f', rejected: 'g' },
    ]);
    // A file without a final newline gets one before the new row.
    expect(appendJsonlRow('{"x":1}', { y: 2 })).toBe('{"x":1}\n{"y":2}\n');
  });

  it('needs every answer in, two different non-empty answers, one marked better and one worse', () => {
    const columns = [column('base', 'one'), column('run', 'two'), column('lora', 'one')];
    const problem = (cols: PlaygroundColumn[], better: string | null, worse: string | null) => {
      const pair = markedPair(cols, { better, worse });
      return 'problem' in pair ? pair.problem : null;
    };
    expect(markedPair(columns, { better: 'run', worse: 'base' })).toMatchObject({
      better: { key: 'run' },
      worse: { key: 'base' },
    });
    expect(problem(columns, 'run', null)).toBe('Mark one answer better and another worse.');
    expect(problem(columns, 'lora', 'base')).toBe(
      'The two answers are the same: DPO learns nothing from such a pair.',
    );
    expect(problem([column('base', ' \n'), column('run', 'two')], 'run', 'base')).toBe(
      'BASE gave an empty answer: a pair needs two answers to compare.',
    );
    const stillGenerating = [column('base', 'one'), column('run', 'tw', { status: 'generating' })];
    expect(canMarkAnswers(stillGenerating)).toBe(false);
    expect(problem(stillGenerating, 'run', 'base')).toBe('Mark answers once at least two have finished.');
    const oneFailed = [column('base', 'one'), column('run', '', { status: 'failed' }), column('x', 'two')];
    expect(canMarkAnswers(oneFailed)).toBe(true);
    expect(problem(oneFailed, 'run', 'base')).toBe('Mark one answer better and another worse.');
    expect(canMarkAnswers([column('base', 'one')])).toBe(false);
  });

  it('says how many pairs are kept and where', () => {
    expect(keptPairsLine(1, 'playground-preferences.jsonl')).toBe(
      '1 pair in playground-preferences.jsonl, in the dataset library: choose it there to train DPO on it.',
    );
    expect(keptPairsLine(3, 'playground-preferences.jsonl')).toBe(
      '3 pairs in playground-preferences.jsonl, in the dataset library: choose it there to train DPO on them.',
    );
  });
});
