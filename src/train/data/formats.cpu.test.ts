import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { decodeDatasetText, firstInvalidUtf8 } from './decode';
import { readDelimited } from './delimited';
import { DatasetEncodingError, DatasetFormatError, DatasetRowError, EmptyDatasetError } from './errors';
import { detectFormat, readDataset } from './formats';
import { arrayElementLines, readJsonArray, readJsonLines } from './json';
import { readPlainText } from './plain-text';
import { bytesOf } from './testing/char-tokenizer';

const unchanged = (input: Uint8Array) => input;
const values = (rows: { value: Record<string, unknown> }[]) => rows.map((r) => r.value);
const lines = (rows: { line: number }[]) => rows.map((r) => r.line);

describe('decoding', () => {
  it('drops a UTF-8 BOM and refuses empty, whitespace-only, UTF-16 and non-UTF-8 files by name', () => {
    expect(decodeDatasetText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toBe('a');
    expect(() => decodeDatasetText(new Uint8Array(), 'e.jsonl')).toThrow(
      /e\.jsonl is empty: it has no bytes/,
    );
    expect(() => decodeDatasetText(bytesOf(' \r\n\n'), 'w.csv')).toThrow(EmptyDatasetError);
    expect(() => decodeDatasetText(new Uint8Array([0xff, 0xfe, 0x61, 0]), 'u.tsv')).toThrow(
      /u\.tsv is UTF-16/,
    );
    // "café" in Latin-1 on line 2: é is the lone byte 0xE9.
    const latin1 = new Uint8Array([...bytesOf('text\ncaf'), 0xe9, 0x0a]);
    expect(() => decodeDatasetText(latin1, 'l.csv')).toThrow(new DatasetEncodingError('l.csv', 8, 2).message);
  });

  it('finds the first ill-formed UTF-8 sequence, and accepts well-formed ones', () => {
    expect(firstInvalidUtf8(bytesOf('naïve café ✓ 𝄞'))).toBe(-1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xc0, 0x80]))).toBe(1); // overlong NUL
    expect(firstInvalidUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(0); // a UTF-16 surrogate
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0x62, 0xe2, 0x9c]))).toBe(2); // cut short
  });
});

describe('JSON Lines', () => {
  it('reads CRLF lines, a BOM-less file with an empty last line, and keeps line numbers', () => {
    const { rows, badRows } = readJsonLines('{"text": "a"}\r\n\r\n{"text": "b"}\r\n');
    expect(values(rows)).toEqual([{ text: 'a' }, { text: 'b' }]);
    expect(lines(rows)).toEqual([1, 3]);
    expect(badRows).toEqual([]);
  });

  it('stops at a malformed row, or skips and counts bad rows when asked', () => {
    const text = '{"text": "a"}\n{"text": "b"\n[1]\n{"text": "c"}';
    expect(() => readJsonLines(text, { file: 'd.jsonl' })).toThrow(
      /d\.jsonl, line 2: not valid JSON: \{"text": "b"/,
    );
    const { rows, badRows } = readJsonLines(text, { skipBadRows: true });
    expect(lines(rows)).toEqual([1, 4]);
    expect(badRows.map((e) => [e.line, e.detail])).toEqual([
      [2, 'not valid JSON'],
      [3, 'expected a JSON object'],
    ]);
  });

  it('reports a single huge line as such, with its length', () => {
    const huge = `{"text": "${'x'.repeat(100)}"}`;
    expect(() => readJsonLines(`{"text": "a"}\n${huge}`, { file: 'h.jsonl', maxLineBytes: 50 })).toThrow(
      /h\.jsonl, line 2: this line is 112 bytes \(112 bytes\) long, past the limit of 50 bytes; is the file one huge line/,
    );
  });
});

describe('JSON arrays', () => {
  const alpaca = `[\n  {\n    "instruction": "Add.",\n    "input": "1, 2",\n    "output": "3"\n  },\n  {"instruction": "Say \\"}\\" [twice]", "input": "", "output": "}}"},\n\n  {\n    "instruction": "x", "output": "y"\n  }\n]\n`;

  it('reads an array of objects with the line each element starts on', () => {
    const { rows } = readJsonArray(alpaca);
    expect(lines(rows)).toEqual([2, 7, 9]);
    expect(values(rows)[1]).toEqual({ instruction: 'Say "}" [twice]', input: '', output: '}}' });
    expect(arrayElementLines('[1,\n"a,b",\n[2, 3], {"k": [4]}]')).toEqual([1, 2, 3, 3]);
  });

  it('names the line of a syntax error, a non-object element, and a lone object', () => {
    expect(() => readJsonArray('[\n  {"a": 1},\n  {"a": 2,}\n]', { file: 'x.json' })).toThrow(
      /x\.json, line 3: not valid JSON .*: \{"a": 2,\}/,
    );
    expect(() => readJsonArray('[\n{"a": 1},\n"loose"\n]')).toThrow(
      /line 3: expected a JSON object: "loose"/,
    );
    expect(() => readJsonArray('{"data": [{"a": 1}]}', { file: 'o.json' })).toThrow(
      /o\.json is a single JSON object, with rows perhaps under "data"/,
    );
  });
});

describe('CSV', () => {
  it('reads RFC 4180 quoting: commas, doubled quotes and line breaks inside quoted fields', () => {
    const csv = 'text,label\r\n"Hello, world",1\r\n"She said ""hi""\r\nand left",0\r\nplain,1\r\n\r\n';
    const { rows, columns } = readDelimited(csv, { delimiter: ',' });
    expect(columns).toEqual(['text', 'label']);
    expect(values(rows)).toEqual([
      { text: 'Hello, world', label: '1' },
      { text: 'She said "hi"\r\nand left', label: '0' },
      { text: 'plain', label: '1' },
    ]);
    expect(lines(rows)).toEqual([2, 3, 5]); // the quoted line break moves "plain" to line 5
  });

  it('names the line of a row with the wrong number of fields and of an unclosed quote', () => {
    const csv = 'text,label\na,1\nb,1,extra\nc,0\n';
    expect(() => readDelimited(csv, { delimiter: ',', file: 'f.csv' })).toThrow(
      /f\.csv, line 3: expected 2 fields, as the header has, but found 3: b,1,extra/,
    );
    const skipped = readDelimited(csv, { delimiter: ',', skipBadRows: true });
    expect(lines(skipped.rows)).toEqual([2, 4]);
    expect(skipped.badRows).toHaveLength(1);
    expect(() => readDelimited('text,label\n"open,1\n', { delimiter: ',' })).toThrow(
      /line 2: Quoted field unterminated/,
    );
    expect(() =>
      readDelimited(`a\tb\n1\t${'x'.repeat(60)}\n`, { delimiter: '\t', maxLineBytes: 50 }),
    ).toThrow(/line 2: this line is 62 bytes \(62 bytes\) long, past the limit of 50 bytes/);
  });
});

describe('TSV as the GLUE files are read (MRPC: quotes are ordinary characters)', () => {
  // Made-up rows in the layout of MRPC's msr_paraphrase_train.txt: BOM, CRLF, a header with spaces and
  // "#", tokenised quotes that open a field, and a quote that never closes.
  const mrpc =
    '\uFEFFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n' +
    '1\t1001\t1002\t" It will rain , " she said .\tShe said it would " rain " .\r\n' +
    '0\t1003\t1004\tThe sign read " closed .\tThe shop was open .\r\n' +
    '1\t1005\t1006\tHe wrote "" twice .\tHe wrote it twice .\r\n';

  it('keeps every quote literally, one row per line', async () => {
    const dataset = await readDataset('msr_paraphrase_train.txt', bytesOf(mrpc));
    expect(dataset.format).toBe('tsv');
    expect(dataset.columns).toEqual(['Quality', '#1 ID', '#2 ID', '#1 String', '#2 String']);
    expect(lines(dataset.rows)).toEqual([2, 3, 4]);
    expect(values(dataset.rows)).toEqual([
      {
        Quality: '1',
        '#1 ID': '1001',
        '#2 ID': '1002',
        '#1 String': '" It will rain , " she said .',
        '#2 String': 'She said it would " rain " .',
      },
      {
        Quality: '0',
        '#1 ID': '1003',
        '#2 ID': '1004',
        '#1 String': 'The sign read " closed .',
        '#2 String': 'The shop was open .',
      },
      {
        Quality: '1',
        '#1 ID': '1005',
        '#2 ID': '1006',
        '#1 String': 'He wrote "" twice .',
        '#2 String': 'He wrote it twice .',
      },
    ]);
  });

  it('would lose rows under RFC quoting, which is why TSV defaults to none', () => {
    const text = mrpc.slice(1);
    const rfc = readDelimited(text, { delimiter: '\t', quoting: 'csv', skipBadRows: true });
    expect(rfc.rows.length).toBeLessThan(3);
  });
});

describe('plain text', () => {
  const text = 'First block,\r\nstill first.\r\n\r\n  \r\nSecond block.\r\n';

  it('reads blank-line-separated blocks, lines, or the whole text, with CRLF read as LF', () => {
    expect(readPlainText(text, 'blocks')).toEqual([
      { line: 1, value: { text: 'First block,\nstill first.' } },
      { line: 5, value: { text: 'Second block.' } },
    ]);
    expect(lines(readPlainText(text, 'lines'))).toEqual([1, 2, 5]);
    expect(readPlainText(text, 'whole')).toEqual([
      { line: 1, value: { text: 'First block,\nstill first.\n\n  \nSecond block.\n' } },
    ]);
  });
});

describe('Parquet (files written by hyparquet-writer)', () => {
  it('reads strings, INT64 labels as numbers, and a list<struct> messages column as HF writes chat data', async () => {
    const messages = [
      [
        { role: 'user', content: 'Hi "there"' },
        { role: 'assistant', content: 'Hello.' },
      ],
      [
        { role: 'user', content: '2+2?' },
        { role: 'assistant', content: '4' },
      ],
    ];
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'text', data: ['a', 'b'] },
        { name: 'label', data: [1n, 0n] },
        { name: 'messages', data: messages },
      ],
      schema: [
        { name: 'schema', num_children: 3 },
        { name: 'text', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'label', type: 'INT64', repetition_type: 'OPTIONAL' },
        { name: 'messages', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
        { name: 'role', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'content', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ],
    });
    const bytes = new Uint8Array(buffer);
    expect(detectFormat('train-00000-of-00001', bytes)).toBe('parquet');
    const dataset = await readDataset('train.parquet', bytes);
    expect(dataset).toMatchObject({ format: 'parquet', unit: 'row', columns: ['text', 'label', 'messages'] });
    expect(dataset.rows).toEqual([
      { line: 1, value: { text: 'a', label: 1, messages: messages[0] } },
      { line: 2, value: { text: 'b', label: 0, messages: messages[1] } },
    ]);
  });

  it('names a codec it cannot decompress, and refuses a file that is not Parquet', async () => {
    const zstd = parquetWriteBuffer({
      columnData: [{ name: 'text', data: ['a'], type: 'STRING' }],
      codec: 'ZSTD',
      compressors: { ZSTD: unchanged }, // labelled ZSTD; the reader stops before decoding
    });
    await expect(readDataset('z.parquet', new Uint8Array(zstd))).rejects.toThrow(
      /z\.parquet is compressed with ZSTD/,
    );
    await expect(readDataset('n.parquet', bytesOf('not parquet at all'))).rejects.toThrow(DatasetFormatError);
  });
});

describe('format detection and the whole read', () => {
  it('goes by extension, then by content', () => {
    expect(detectFormat('a.jsonl', bytesOf('{}'))).toBe('jsonl');
    expect(detectFormat('a.json', bytesOf('  [{"a": 1}]'))).toBe('json');
    expect(detectFormat('a.json', bytesOf('{"a": 1}\n{"a": 2}'))).toBe('jsonl'); // HF datasets' to_json
    expect(detectFormat('a.CSV', bytesOf('a,b'))).toBe('csv');
    expect(detectFormat('notes.txt', bytesOf('Once upon a time.\n\nThe end.'))).toBe('text');
    expect(detectFormat('dev.txt', bytesOf('a\tb\n1\t2\n'))).toBe('tsv');
  });

  it('reports a file with a header and no rows, or only bad rows, as empty', async () => {
    await expect(readDataset('h.csv', bytesOf('text,label\r\n'))).rejects.toThrow(
      /h\.csv is empty: it has no rows/,
    );
    await expect(readDataset('b.jsonl', bytesOf('nope\n'), { skipBadRows: true })).rejects.toThrow(
      /b\.jsonl is empty: all 1 of its rows are bad, the first: b\.jsonl, line 1: not valid JSON/,
    );
    await expect(readDataset('b.jsonl', bytesOf('nope\n'))).rejects.toThrow(DatasetRowError);
  });
});
