import { describe, expect, it } from 'vitest';
import { DatasetRowError, parseJsonl, textRows } from './jsonl';

describe('JSON Lines', () => {
  it('reads objects with their line numbers, skipping blank lines', () => {
    expect(parseJsonl('{"text": "a"}\n\n{"text": "b"}\r\n')).toEqual([
      { line: 1, value: { text: 'a' } },
      { line: 3, value: { text: 'b' } },
    ]);
  });

  it('names the line of a malformed row', () => {
    expect(() => parseJsonl('{"text": "a"}\n{"text": "b"\n', 'train.jsonl')).toThrow(
      /train\.jsonl, line 2: not valid JSON: \{"text": "b"/,
    );
    expect(() => parseJsonl('[1, 2]')).toThrow(DatasetRowError);
    expect(() => textRows(parseJsonl('{"text": "a"}\n{"prompt": "b"}'))).toThrow(
      /line 2: expected a string field "text"/,
    );
  });
});
