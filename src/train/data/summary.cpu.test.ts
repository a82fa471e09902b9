import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelTokenizer } from '../text/tokenizer';
import { loadDataset } from './load-dataset';
import { lengthStats, percentile, summarizeDataset } from './summary';
import { BOS, bytesOf, CHATML, CharTokenizer, EOS } from './testing/char-tokenizer';
import { prepareTrainingData } from './training-data';

describe('token-length statistics', () => {
  it('interpolates percentiles as numpy.percentile does', () => {
    // numpy.percentile([1, 2, 3, 4, 10], [50, 95]) == [3.0, 8.8]
    expect(percentile([1, 2, 3, 4, 10], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 10], 95)).toBeCloseTo(8.8, 12);
    expect(lengthStats([10, 1, 4, 3, 2])).toEqual({
      count: 5,
      total: 20,
      min: 1,
      mean: 4,
      p50: 3,
      p95: expect.closeTo(8.8, 12),
      max: 10,
    });
  });
});

describe('summarizeDataset (the data CLI’s JSON)', () => {
  it('reports format, schema, rows, bad rows and token lengths as training would tokenize them', async () => {
    const jsonl =
      '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}\n' +
      'not json\n' +
      '{"messages": [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hey there"}]}\n';
    const summary = await summarizeDataset('chat.jsonl', bytesOf(jsonl), new CharTokenizer(CHATML), {
      maxLength: 60,
    });
    // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n" is 25 ids; the second 35.
    expect(summary).toEqual({
      file: 'chat.jsonl',
      format: 'jsonl',
      schema: { kind: 'chat', columns: { messages: 'messages' }, detected: true },
      columns: ['messages'],
      rows: 3,
      badRows: 1,
      badRowSamples: ['chat.jsonl, line 2: not valid JSON: not json'],
      badRowDetails: [
        { line: 2, unit: 'line', error: 'DatasetRowError', detail: 'not valid JSON', snippet: 'not json' },
      ],
      examples: 2,
      tokens: {
        count: 2,
        total: 60,
        min: 25,
        mean: 30,
        p50: 30,
        p95: 34.5,
        max: 35,
        trained: 4 + 11, // "Yo<|im_end|>\n", "Hey there<|im_end|>\n"
        template: 'model',
        overMaxLength: 0,
      },
    });
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });

  it('reports the label balance of a sentence-pair TSV, and works without a tokenizer', async () => {
    const tsv =
      'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t1\t2\t"a" b\tc\r\n0\t3\t4\td\te\r\n1\t5\t6\tf\tg\r\n';
    const summary = await summarizeDataset('msr_paraphrase_train.txt', bytesOf(tsv));
    expect(summary).toMatchObject({
      format: 'tsv',
      schema: {
        kind: 'sentence-pair',
        columns: { sentence1: '#1 String', sentence2: '#2 String', label: 'Quality' },
      },
      rows: 3,
      badRows: 0,
      labels: { set: [0, 1], counts: { '0': 1, '1': 2 } },
    });
    expect(summary.tokens).toBeUndefined();
    const withTokens = await summarizeDataset('m.tsv', bytesOf(tsv), new CharTokenizer());
    // BOS + '"a" b' + 'c' (the pair without special tokens): 7 ids.
    expect(withTokens.tokens).toMatchObject({ min: 3, max: 7, template: 'none' });
  });
});

describe('prepareTrainingData', () => {
  it('splits, tokenizes with masking, and truncates or packs', async () => {
    const lines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ prompt: `p${i}`, completion: `c${i}` }),
    );
    const loaded = await loadDataset('pc.jsonl', bytesOf(lines.join('\n')));
    const tokenizer = new CharTokenizer();
    const plain = prepareTrainingData(loaded, tokenizer, {
      seqLen: 5,
      eosTokenId: EOS,
      validationFraction: 0.2,
      seed: 1,
    });
    expect([plain.train.length, plain.validation.length, plain.truncated]).toEqual([8, 2, 10]);
    // BOS p i | c i EOS: the prompt masked, then cut to 5.
    expect(plain.train[0]?.labels?.slice(0, 3)).toEqual([-100, -100, -100]);
    expect(plain.train.every((e) => e.ids.length === 5)).toBe(true);

    const packed = prepareTrainingData(loaded, tokenizer, { seqLen: 12, eosTokenId: EOS, packing: true });
    expect(packed.truncated).toBe(0);
    expect(packed.validation).toEqual([]);
    expect(packed.train.map((r) => r.ids.length)).toEqual([12, 12, 12, 12, 12]); // 10 examples × 6 ids
    expect(packed.train[0]?.ids.slice(0, 7)).toEqual([
      BOS,
      ...[...'p0c0'].map((c) => c.codePointAt(0)),
      EOS,
      BOS,
    ]);
  });

  it('cuts plain text read whole into rows of the sequence length before splitting', async () => {
    const loaded = await loadDataset('book.txt', bytesOf('abcdefghij'), { textMode: 'whole' });
    const data = prepareTrainingData(loaded, new CharTokenizer(), {
      seqLen: 4,
      eosTokenId: EOS,
      validationFraction: 0.25,
      seed: 3,
    });
    // BOS + 10 characters + EOS = 12 ids = 3 rows of 4; one held out.
    expect([data.train.length, data.validation.length, data.truncated]).toEqual([2, 1, 0]);
    expect([...data.train, ...data.validation].every((r) => r.ids.length === 4)).toBe(true);
  });

  it('uses a validation file the person gives instead of splitting', async () => {
    const train = await loadDataset('t.jsonl', bytesOf('{"text": "a"}\n{"text": "b"}'));
    const validation = await loadDataset('v.jsonl', bytesOf('{"text": "c"}'));
    const data = prepareTrainingData(train, new CharTokenizer(), {
      seqLen: 8,
      validation,
      validationFraction: 0.5,
    });
    expect([data.train.length, data.validation.length]).toEqual([2, 1]);
  });
});

const fixtures = new URL('../../../../shared/hf-fixtures/', import.meta.url).pathname;

describe.runIf(existsSync(fixtures))('summary with a real tokenizer (../shared/hf-fixtures)', () => {
  it('GPT-2 on an Alpaca JSON array: the fallback template and exact lengths', async () => {
    const t = new ModelTokenizer(
      JSON.parse(readFileSync(`${fixtures}gpt2/tokenizer.json`, 'utf8')),
      JSON.parse(readFileSync(`${fixtures}gpt2/tokenizer_config.json`, 'utf8')),
    );
    const alpaca = '[\n  {"instruction": "Say hello.", "input": "", "output": "Hello"}\n]';
    const summary = await summarizeDataset('alpaca_data.json', bytesOf(alpaca), t, { eosTokenId: 50256 });
    const text = '### User:\nSay hello.\n\n### Assistant:\nHello<|endoftext|>';
    const length = t.encode(text).length;
    expect(summary).toMatchObject({ format: 'json', schema: { kind: 'alpaca' } });
    expect(summary.tokens).toMatchObject({ template: 'fallback', min: length, max: length, trained: 2 });
  });
});
