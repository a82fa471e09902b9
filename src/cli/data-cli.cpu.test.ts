/**
 * `whetstone data`, called as main.ts calls it, on files of several formats written to disk and a tiny
 * model's tokenizer (byte-level: one token per UTF-8 byte, BOS 256 and EOS 257, a ChatML template).
 * Expected token lengths are worked out here from the bytes, not from the code under test.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../train/fixtures/tiny-models';
import { runData } from './data';
import { CliUsageError } from './usage-error';

const dir = mkdtempSync(join(tmpdir(), 'whetstone-data-'));
const model = join(dir, 'model');
const bytes = (text: string) => new TextEncoder().encode(text).length;

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function data(...args: [string, string | boolean][]) {
  let out = '';
  await runData(Object.fromEntries(args), (text) => {
    out += text;
  });
  return out;
}

const json = async (...args: [string, string | boolean][]) => JSON.parse(await data(...args, ['json', true]));

/** numpy.percentile's linear interpolation, for the expected values. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  return (
    (sorted[lo] as number) +
    ((sorted[Math.min(lo + 1, sorted.length - 1)] as number) - (sorted[lo] as number)) * (rank - lo)
  );
}

beforeAll(() => {
  const files = tinyModelFiles({ family: 'llama', seed: 3 });
  mkdirSync(model, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(model, name), content);
});

describe('whetstone data', () => {
  it('JSON Lines of text with a bad row: counts, the bad line, and token lengths with BOS and EOS', async () => {
    const texts = ['Hello, world!', 'ok', 'naïve café', 'A somewhat longer line of text here.'];
    const lines = texts.map((text) => JSON.stringify({ text }));
    lines.splice(2, 0, '{"text": broken');
    const path = file('t.jsonl', `${lines.join('\r\n')}\r\n`);
    const report = await json(['data', path], ['model', model], ['seq-len', '16']);
    expect(report).toMatchObject({
      format: 'jsonl',
      schema: { kind: 'text', detected: true },
      columns: ['text'],
      rows: 5,
      bad_rows: 1,
      examples: 4,
    });
    expect(report.bad_row_samples).toEqual([
      {
        line: 3,
        unit: 'line',
        error: 'DatasetRowError',
        detail: 'not valid JSON',
        snippet: '{"text": broken',
      },
    ]);
    const lengths = texts.map((t) => bytes(t) + 2); // BOS + bytes + EOS
    expect(report.tokens).toMatchObject({
      count: 4,
      min: Math.min(...lengths),
      max: Math.max(...lengths),
      median: percentile(lengths, 50),
      p95: percentile(lengths, 95),
      mean: lengths.reduce((a, b) => a + b) / 4,
      seq_len: 16,
      truncated: lengths.filter((n) => n > 16).length,
      trained: lengths.reduce((a, b) => a + b),
    });
    expect(report.tokens.truncated).toBe(1);
  });

  it('an Alpaca JSON array through the ChatML template: only the answers are trained', async () => {
    const rows = [
      { instruction: 'Add.', input: '1, 2', output: '3' },
      { instruction: 'Greet.', input: '', output: 'Hello there' },
    ];
    const path = file('alpaca.json', JSON.stringify(rows, null, 2));
    const report = await json(['data', path], ['model', model]);
    expect(report).toMatchObject({ format: 'json', schema: { kind: 'alpaca', detected: true }, examples: 2 });
    const chatml = (user: string, answer: string) =>
      `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n${answer}<|im_end|>\n`;
    const lengths = [bytes(chatml('Add.\n\n1, 2', '3')), bytes(chatml('Greet.', 'Hello there'))];
    const trained = bytes('3<|im_end|>\n') + bytes('Hello there<|im_end|>\n');
    expect(report.tokens).toMatchObject({
      min: Math.min(...lengths),
      max: Math.max(...lengths),
      trained,
      template: 'model',
    });
    expect(report.preview[0]).toMatchObject({ kind: 'chat', line: 2 });
    const unmasked = await json(['data', path], ['model', model], ['no-mask-prompt', true]);
    expect(unmasked.tokens.trained).toBe(lengths[0]! + lengths[1]!);
  });

  it('MRPC TSV (quotes kept, CRLF, BOM, empty last line): sentence pairs and label counts, no model needed', async () => {
    const path = file(
      'msr_paraphrase_test.txt',
      '\uFEFFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t1\t2\t" Yes , " he said .\tHe agreed .\r\n0\t3\t4\tNo " .\tMaybe .\r\n1\t5\t6\ta\tb\r\n\r\n',
    );
    const report = await json(['data', path]);
    expect(report).toMatchObject({
      format: 'tsv',
      schema: {
        kind: 'sentence-pair',
        columns: { sentence1: '#1 String', sentence2: '#2 String', label: 'Quality' },
      },
      rows: 3,
      bad_rows: 0,
      labels: { set: [0, 1], counts: { '0': 1, '1': 2 } },
    });
    expect(report.tokens).toBeUndefined();
    expect(report.preview[0]).toMatchObject({ textPair: 'He agreed .', text: '" Yes , " he said .' });
  });

  it('CSV mapped by hand, Parquet and plain text; a readable summary without --json', async () => {
    const csv = file('qa.csv', 'question,answer\n"What is 2+2, then?",4\nWhy?,Because\n');
    const mapped = await json(
      ['data', csv],
      ['schema', 'prompt-completion'],
      ['columns', 'prompt=question,completion=answer'],
    );
    expect(mapped).toMatchObject({ schema: { kind: 'prompt-completion', detected: false }, examples: 2 });
    expect(mapped.preview[0]).toMatchObject({ prompt: 'What is 2+2, then?', completion: '4' });
    const parquet = file(
      'train.parquet',
      new Uint8Array(
        parquetWriteBuffer({ columnData: [{ name: 'text', data: ['a', 'bb', 'ccc'], type: 'STRING' }] }),
      ),
    );
    expect(await json(['data', parquet], ['model', model])).toMatchObject({
      format: 'parquet',
      rows: 3,
      tokens: { min: 3, max: 5 },
    });
    const text = file('notes.txt', 'First block.\n\nSecond block,\ntwo lines.\n');
    const readable = await data(['data', text], ['model', model], ['seq-len', '8']);
    expect(readable).toMatch(/notes\.txt: text \(blocks\), 2 rows, 0 bad, 2 examples/);
    expect(readable).toMatch(/schema: text \(detected\): text = "text"/);
    expect(readable).toMatch(/2 of 2 examples are longer than --seq-len 8 and would be truncated/);
  });

  it('names the missing column, and refuses a missing file or --columns without --schema', async () => {
    const csv = file('m.csv', 'question,answer\na,b\n');
    await expect(
      data(['data', csv], ['schema', 'prompt-completion'], ['columns', 'prompt=q']),
    ).rejects.toThrow(
      /m\.csv has no column "q" \(the prompt of the prompt-completion schema\); its columns are: "question", "answer"/,
    );
    await expect(data(['data', join(dir, 'nope.jsonl')])).rejects.toThrow(CliUsageError);
    await expect(data(['data', csv], ['columns', 'prompt=question'])).rejects.toThrow(/give --schema too/);
    await expect(data(['data', file('empty.jsonl', '')])).rejects.toThrow(
      /empty\.jsonl is empty: it has no bytes/,
    );
  });
});
