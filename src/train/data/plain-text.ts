/**
 * Plain text as examples, in one of three ways (every one a single "text" column):
 * - 'blocks': one example per blank-line-separated block (HF datasets' text loader, sample_by="paragraph");
 * - 'lines': one example per non-blank line (its default, sample_by="line");
 * - 'whole': the whole file as one example, which training then cuts into rows of the sequence length
 *   (run_clm's group_texts; see `chunkExample` in packing.ts).
 * Line ends are normalised to \n first, as Python's universal newlines read them, so a CRLF file
 * tokenizes as its LF twin would.
 */
import type { DatasetRow } from './rows';

export type PlainTextMode = 'blocks' | 'lines' | 'whole';

export function readPlainText(text: string, mode: PlainTextMode): DatasetRow[] {
  const normalized = text.replace(/\r\n?/g, '\n');
  if (mode === 'whole') return [{ line: 1, value: { text: normalized } }];
  const rows: DatasetRow[] = [];
  const lines = normalized.split('\n');
  let block: string[] = [];
  let blockLine = 0;
  const flush = () => {
    if (block.length) rows.push({ line: blockLine, value: { text: block.join('\n') } });
    block = [];
  };
  lines.forEach((raw, index) => {
    const blank = raw.trim() === '';
    if (mode === 'lines') {
      if (!blank) rows.push({ line: index + 1, value: { text: raw } });
    } else if (blank) flush();
    else {
      if (!block.length) blockLine = index + 1;
      block.push(raw);
    }
  });
  flush();
  return rows;
}
