import { describe, expect, it } from 'vitest';
import { detectFormat, readDataset, splitValidation } from './read-dataset';

describe('reading a dataset', () => {
  it('reads plain text as one example per non-blank line', () => {
    expect(readDataset('first line\n\n  second line  \r\nthird')).toEqual({
      ok: true,
      format: 'text',
      rows: [
        { line: 1, text: 'first line' },
        { line: 3, text: 'second line' },
        { line: 4, text: 'third' },
      ],
    });
  });

  it('reads JSON Lines of {"text": ...}', () => {
    const reading = readDataset('{"text": "a"}\n\n{"text": "b", "id": 2}\n');
    expect(reading).toEqual({
      ok: true,
      format: 'jsonl',
      rows: [
        { line: 1, text: 'a' },
        { line: 3, text: 'b' },
      ],
    });
  });

  it('names the line of a malformed row', () => {
    const broken = readDataset('{"text": "a"}\n{"text": "b"}\n{"text": oops}\n');
    expect(broken).toMatchObject({
      ok: false,
      format: 'jsonl',
      line: 3,
      problem: 'not valid JSON: {"text": oops}',
    });
    expect(!broken.ok && broken.message).toContain('line 3');
    const noText = readDataset('{"text": "a"}\n{"prompt": "b"}', 'data.jsonl');
    expect(noText).toMatchObject({ ok: false, line: 2 });
    expect(!noText.ok && noText.message).toContain('data.jsonl, line 2');
  });

  it('takes the format from the file name first', () => {
    expect(detectFormat('{"text": "a"}', 'notes.txt')).toBe('text');
    expect(detectFormat('plain', 'data.jsonl')).toBe('jsonl');
    expect(detectFormat('\n  {"text": "a"}')).toBe('jsonl');
    expect(detectFormat('')).toBe('text');
  });

  it('holds the last tenth out for validation once there are four rows', () => {
    expect(splitValidation(['a', 'b', 'c'])).toEqual({
      train: ['a', 'b', 'c'],
      validation: ['a', 'b', 'c'],
      heldOut: false,
    });
    expect(splitValidation(['a', 'b', 'c', 'd'])).toEqual({
      train: ['a', 'b', 'c'],
      validation: ['d'],
      heldOut: true,
    });
    const twenty = Array.from({ length: 20 }, (_, i) => `row ${i}`);
    expect(splitValidation(twenty).validation).toEqual(['row 18', 'row 19']);
  });
});
