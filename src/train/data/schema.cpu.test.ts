import { describe, expect, it } from 'vitest';
import { MissingColumnError, SchemaDetectionError } from './errors';
import { detectSchema, resolveSchema } from './schema';

describe('schema detection from column names', () => {
  it.each([
    [['text'], { kind: 'text', columns: { text: 'text' } }],
    [
      ['prompt', 'completion'],
      { kind: 'prompt-completion', columns: { prompt: 'prompt', completion: 'completion' } },
    ],
    [
      ['instruction', 'input', 'output'],
      { kind: 'alpaca', columns: { instruction: 'instruction', input: 'input', output: 'output' } },
    ],
    [
      ['instruction', 'output'],
      { kind: 'alpaca', columns: { instruction: 'instruction', output: 'output' } },
    ],
    [
      ['instruction', 'context', 'response', 'category'], // Dolly
      { kind: 'alpaca', columns: { instruction: 'instruction', input: 'context', output: 'response' } },
    ],
    [['messages', 'id'], { kind: 'chat', columns: { messages: 'messages' } }],
    [['id', 'conversations'], { kind: 'sharegpt', columns: { conversations: 'conversations' } }],
    [['text', 'label'], { kind: 'classification', columns: { text: 'text', label: 'label' } }],
    [['sentence', 'label', 'idx'], { kind: 'classification', columns: { text: 'sentence', label: 'label' } }],
    [
      ['sentence1', 'sentence2', 'label', 'idx'],
      { kind: 'sentence-pair', columns: { sentence1: 'sentence1', sentence2: 'sentence2', label: 'label' } },
    ],
    [
      ['Quality', '#1 ID', '#2 ID', '#1 String', '#2 String'],
      {
        kind: 'sentence-pair',
        columns: { sentence1: '#1 String', sentence2: '#2 String', label: 'Quality' },
      },
    ],
    [
      ['question1', 'question2', 'label'],
      { kind: 'sentence-pair', columns: { sentence1: 'question1', sentence2: 'question2', label: 'label' } },
    ],
  ])('%j', (columns, expected) => {
    expect(detectSchema(columns)).toEqual(expected);
  });

  it('says which columns it found when nothing fits', () => {
    expect(() => detectSchema(['question', 'answer'], 'qa.csv')).toThrow(SchemaDetectionError);
    expect(() => detectSchema(['question', 'answer'], 'qa.csv')).toThrow(
      /qa\.csv: no known schema fits the columns "question", "answer"\. Expected text; prompt\/completion/,
    );
  });
});

describe('the person’s choice of schema and columns', () => {
  it('maps columns by hand and finds the rest by alias', () => {
    expect(
      resolveSchema(['question', 'answer'], {
        kind: 'prompt-completion',
        columns: { prompt: 'question', completion: 'answer' },
      }),
    ).toEqual({
      kind: 'prompt-completion',
      columns: { prompt: 'question', completion: 'answer' },
    });
    // Overriding detection: a classification file trained on as plain text.
    expect(resolveSchema(['text', 'label'], { kind: 'text' })).toEqual({
      kind: 'text',
      columns: { text: 'text' },
    });
    expect(resolveSchema(['q', 'output'], { kind: 'alpaca', columns: { instruction: 'q' } })).toEqual({
      kind: 'alpaca',
      columns: { instruction: 'q', output: 'output' },
    });
  });

  it('names the missing column and the columns present', () => {
    const error = (() => {
      try {
        resolveSchema(
          ['question', 'answer'],
          { kind: 'prompt-completion', columns: { prompt: 'question' } },
          'qa.jsonl',
        );
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MissingColumnError);
    expect(error).toMatchObject({
      column: 'completion',
      field: 'completion',
      present: ['question', 'answer'],
    });
    expect((error as Error).message).toBe(
      'qa.jsonl has no column "completion" (the completion of the prompt-completion schema); its columns are: ' +
        '"question", "answer". Map one of them to completion by hand.',
    );
    expect(() => resolveSchema(['a'], { kind: 'text', columns: { text: 'body' } })).toThrow(
      /no column "body"/,
    );
    expect(() => resolveSchema(['a'], { kind: 'text', columns: { body: 'a' } })).toThrow(
      /has no field "body"/,
    );
  });
});
