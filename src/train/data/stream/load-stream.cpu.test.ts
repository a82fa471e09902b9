/**
 * The streaming reader against the whole-file reader (formats.ts, an independent implementation): the
 * same bytes cut into chunks of 1, 2, 3, 7 and 64 bytes must give identical rows, line numbers, bad rows
 * and errors, with CRLF, BOMs and multi-byte characters falling across chunk boundaries.
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { DatasetEncodingError, DatasetRowError, EmptyDatasetError } from '../errors';
import { type RawDataset, type ReadDatasetOptions, readDataset } from '../formats';
import { loadDataset } from '../load-dataset';
import { DatasetLineTooLongError } from '../rows';
import { bytesOf } from '../testing/char-tokenizer';
import { readLines } from './line-reader';
import { loadDatasetStream, readDatasetStream } from './load-stream';

const CHUNK_SIZES = [1, 2, 3, 7, 64];

function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
  return chunks;
}

/** A dataset with its errors as plain data, so toEqual compares what a person would see. */
function plain(dataset: RawDataset) {
  return {
    ...dataset,
    badRows: dataset.badRows.map((e) => ({ name: e.name, line: e.line, message: e.message })),
  };
}

async function outcome(read: () => Promise<RawDataset>) {
  try {
    return { ok: plain(await read()) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** Whole-file and streamed reads of `bytes`, at every chunk size, must agree exactly. */
async function expectSameAsWholeFile(name: string, bytes: Uint8Array, options: ReadDatasetOptions = {}) {
  const whole = await outcome(() => readDataset(name, bytes, options));
  for (const size of CHUNK_SIZES) {
    const streamed = await outcome(() => readDatasetStream(name, chunked(bytes, size), options));
    expect(streamed, `${name} in chunks of ${size}`).toEqual(whole);
  }
  return whole;
}

describe('streaming reader: the same result as the whole-file reader at any chunk size', () => {
  it('JSON Lines with a BOM, CRLF, blank lines, multi-byte characters and no final line end', async () => {
    const text = '\uFEFF{"text": "naïve café ✓"}\r\n\r\n{"text": "𝄞 clef, 日本語"}\r\n{"text": "last"}';
    const whole = await expectSameAsWholeFile('a.jsonl', bytesOf(text));
    expect(whole.ok?.rows.map((r) => r.line)).toEqual([1, 3, 4]);
    expect(whole.ok?.rows[1]?.value).toEqual({ text: '𝄞 clef, 日本語' });
  });

  it('JSON Lines bad rows: stopped at, or skipped and counted, with the same lines and messages', async () => {
    const text = '{"text": "a"}\n{"text": "é\n[1]\r\n{"text": "c"}\n';
    const stopped = await expectSameAsWholeFile('b.jsonl', bytesOf(text));
    expect(stopped.error).toMatch(/^DatasetRowError: b\.jsonl, line 2: not valid JSON: \{"text": "é$/);
    const skipped = await expectSameAsWholeFile('b.jsonl', bytesOf(text), { skipBadRows: true });
    expect(skipped.ok?.badRows.map((e) => e.line)).toEqual([2, 3]);
    expect(skipped.ok?.rows.map((r) => r.line)).toEqual([1, 4]);
  });

  it('CSV with quoted commas, doubled quotes and a CRLF inside a quoted field, CRLF line ends, a BOM', async () => {
    const csv =
      '\uFEFFtext,label\r\n"Hello, wörld",1\r\n"She said ""hi""\r\nand left",0\r\nplain,1\r\n\r\nx"y,0\r\n';
    const whole = await expectSameAsWholeFile('c.csv', bytesOf(csv));
    expect(whole.ok?.rows.map((r) => r.line)).toEqual([2, 3, 5, 7]);
    expect(whole.ok?.rows[1]?.value).toEqual({ text: 'She said "hi"\r\nand left', label: '0' });
    expect(whole.ok?.rows[3]?.value).toEqual({ text: 'x"y', label: '0' });
  });

  it('CSV bad rows: wrong field count and an unclosed quote', async () => {
    const csv = 'text,label\na,1\nb,1,extra\nc,0\n"open,1\nmore\n';
    const stopped = await expectSameAsWholeFile('d.csv', bytesOf(csv));
    expect(stopped.error).toMatch(/line 3: expected 2 fields/);
    const skipped = await expectSameAsWholeFile('d.csv', bytesOf(csv), { skipBadRows: true });
    expect(skipped.ok?.badRows.map((e) => e.line)).toEqual([3, 5]);
    expect(skipped.ok?.badRows[1]?.message).toMatch(/Quoted field unterminated/);
  });

  it('MRPC-style TSV: quotes are ordinary characters, BOM, CRLF, an empty last line', async () => {
    const tsv =
      '\uFEFFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n' +
      '1\t1001\t1002\t" It will rain , " she said .\tShe said it would " rain " .\r\n' +
      '0\t1003\t1004\tThe sign read " closed .\tThe shop was open .\r\n\r\n';
    const whole = await expectSameAsWholeFile('msr_paraphrase_train.txt', bytesOf(tsv));
    expect(whole.ok?.format).toBe('tsv');
    expect(whole.ok?.rows[1]?.value['#1 String']).toBe('The sign read " closed .');
  });

  it('plain text as blocks, lines and the whole text, with CRLF and a lone CR', async () => {
    const text = 'First block,\r\nstill first ✓.\r\n\r\n  \r\nSecond\rblock.\r\nThird.\n';
    for (const textMode of ['blocks', 'lines', 'whole'] as const) {
      const whole = await expectSameAsWholeFile('notes.txt', bytesOf(text), { textMode });
      expect(whole.ok?.rows.length).toBeGreaterThan(0);
    }
  });

  it('JSON arrays and Parquet are gathered whole and read as before', async () => {
    await expectSameAsWholeFile(
      'alpaca.json',
      bytesOf('[\n {"instruction": "Add.", "output": "3"},\n {"instruction": "é", "output": "x"}\n]\n'),
    );
    const parquet = new Uint8Array(
      parquetWriteBuffer({ columnData: [{ name: 'text', data: ['a', 'b'], type: 'STRING' }] }),
    );
    const whole = await expectSameAsWholeFile('train-00000-of-00001', parquet);
    expect(whole.ok?.format).toBe('parquet');
  });

  it('refuses empty, whitespace-only, UTF-16 and non-UTF-8 input with the same named errors', async () => {
    expect((await expectSameAsWholeFile('e.jsonl', new Uint8Array())).error).toMatch(
      /^EmptyDatasetError: e\.jsonl is empty: it has no bytes/,
    );
    expect((await expectSameAsWholeFile('w.csv', bytesOf(' \r\n\n'))).error).toMatch(
      /^EmptyDatasetError: .*only whitespace/,
    );
    expect((await expectSameAsWholeFile('h.csv', bytesOf('text,label\r\n'))).error).toMatch(
      /^EmptyDatasetError: .*no rows/,
    );
    expect((await expectSameAsWholeFile('u.tsv', new Uint8Array([0xff, 0xfe, 0x61, 0]))).error).toMatch(
      /^DatasetEncodingError: u\.tsv is UTF-16/,
    );
    // "café" in Latin-1 on line 3 (é is the lone byte 0xE9) at byte 43, after a line with a real, two-byte é.
    const latin1 = new Uint8Array([
      ...bytesOf('{"text": "é"}\n{"text": "ok"}\n{"text": "caf'),
      0xe9,
      ...bytesOf('"}\n'),
    ]);
    const bad = await expectSameAsWholeFile('l.jsonl', latin1);
    expect(bad.error).toBe(`DatasetEncodingError: ${new DatasetEncodingError('l.jsonl', 43, 3).message}`);
  });

  it('a line past the limit is its own named bad row with its size, and is skipped without being buffered', async () => {
    const huge = `{"text": "${'é'.repeat(40)}"}`; // 92 bytes, 52 characters
    const text = `{"text": "a"}\n${huge}\r\n{"text": "b"}\n`;
    const stopped = await expectSameAsWholeFile('h.jsonl', bytesOf(text), { maxLineBytes: 60 });
    expect(stopped.error).toMatch(
      /^DatasetLineTooLongError: h\.jsonl, line 2: this line is 92 bytes \(92 bytes\) long, past the limit of 60 bytes/,
    );
    const skipped = await expectSameAsWholeFile('h.jsonl', bytesOf(text), {
      maxLineBytes: 60,
      skipBadRows: true,
    });
    expect(skipped.ok?.rows.map((r) => r.line)).toEqual([1, 3]);
    const tsv = `a\tb\n1\t${'x'.repeat(60)}\n2\tok\n`;
    const tsvSkipped = await expectSameAsWholeFile('h.tsv', bytesOf(tsv), {
      maxLineBytes: 50,
      skipBadRows: true,
    });
    expect(tsvSkipped.ok?.badRows[0]?.name).toBe('DatasetLineTooLongError');
    await expect(
      readDatasetStream('big.jsonl', [bytesOf('x'.repeat(200))], { maxLineBytes: 100 }),
    ).rejects.toBeInstanceOf(DatasetRowError);
  });
});

describe('line reader', () => {
  it('keeps line numbers and byte offsets across chunks, CRLF split between chunks', async () => {
    const bytes = bytesOf('ab\r\n€\r\n\nlast\r');
    for (const size of CHUNK_SIZES) {
      const lines = [];
      for await (const line of readLines(chunked(bytes, size))) lines.push(line);
      expect(lines, `chunks of ${size}`).toEqual([
        { line: 1, text: 'ab', eol: '\r\n', byteOffset: 0, bytes: 2 },
        { line: 2, text: '€', eol: '\r\n', byteOffset: 4, bytes: 3 },
        { line: 3, text: '', eol: '\n', byteOffset: 9, bytes: 0 },
        { line: 4, text: 'last', eol: '', byteOffset: 10, bytes: 4 },
      ]);
    }
  });

  it('reports progress in bytes read of the total, ending at the total', async () => {
    const bytes = bytesOf('{"text": "a"}\n{"text": "b"}\n');
    const seen: number[] = [];
    const loaded = await loadDatasetStream('p.jsonl', chunked(bytes, 7), {
      totalBytes: bytes.length,
      onProgress: ({ bytesRead, totalBytes }) => {
        expect(totalBytes).toBe(bytes.length);
        seen.push(bytesRead);
      },
    });
    expect(loaded.examples).toHaveLength(2);
    expect(seen).toEqual([7, 14, 21, 28]);
  });

  it('reads a Blob (a browser File) and a web ReadableStream to what loadDataset gives', async () => {
    const text = 'instruction,input,output\r\nAdd.,"1, 2",3\r\nSay hi.,,hi\r\n';
    const expected = await loadDataset('a.csv', bytesOf(text));
    const seen: (number | undefined)[] = [];
    const fromBlob = await loadDatasetStream('a.csv', new Blob([text]), {
      onProgress: (p) => seen.push(p.totalBytes),
    });
    expect(fromBlob).toEqual(expected);
    expect(seen.at(-1)).toBe(bytesOf(text).length);
    const stream = new Blob([text]).stream();
    expect(await loadDatasetStream('a.csv', stream)).toEqual(expected);
    expect(expected.schema.kind).toBe('alpaca');
  });

  it('is an EmptyDatasetError for no bytes at all', async () => {
    await expect(async () => {
      for await (const _ of readLines([], { file: 'z.txt' })) {
        /* nothing */
      }
    }).rejects.toBeInstanceOf(EmptyDatasetError);
    expect(new DatasetLineTooLongError(3, 's', 70_000_000, 64 * 1024 * 1024, 'f.jsonl').message).toMatch(
      /f\.jsonl, line 3: this line is 70,000,000 bytes \(66\.8 MiB\) long, past the limit of 64 MiB/,
    );
  });
});
