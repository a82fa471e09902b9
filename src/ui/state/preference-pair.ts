/**
 * A preference pair from the playground: two answers to the same prompt, one marked better and one worse,
 * as one row of TRL's preference format (what DPOTrainer and Whetstone's preference schema read):
 *   standard         {"prompt": "...", "chosen": "...", "rejected": "..."}
 *   conversational   {"prompt": [{"role": "user", ...}], "chosen": [{"role": "assistant", ...}], "rejected": [...]}
 * Pure functions: whether two marked answers make a pair, the row, the library file it belongs in, and
 * the JSON Lines text with the row appended. Saving is keep-preference-pair.ts's.
 */
import type { PlaygroundColumn } from './playground-slice';

export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

export type PreferenceRow =
  | { prompt: string; chosen: string; rejected: string }
  | { prompt: ChatTurn[]; chosen: ChatTurn[]; rejected: ChatTurn[] };

/** Which answers are marked: column keys, or null. */
export interface AnswerMarks {
  better: string | null;
  worse: string | null;
}

/**
 * Each form has its own file: TRL reads one type per column, so a file mixing message lists and strings
 * could train here but not export as a TRL job (preference-dataset.ts refuses it).
 */
export const preferenceFileNames = {
  conversational: 'playground-preferences.jsonl',
  standard: 'playground-preferences-raw.jsonl',
} as const;

export const isPreferenceFileName = (fileName: string) =>
  Object.values(preferenceFileNames).includes(fileName as never);

/** Whether the answers can be marked at all: none still generating, and at least two that answered. */
export function canMarkAnswers(columns: readonly PlaygroundColumn[]): boolean {
  return (
    !columns.some((c) => c.status === 'generating') && columns.filter((c) => c.status === 'done').length >= 2
  );
}

/** The marked pair's columns, or why the marks make no pair yet (a hint for the person). */
export function markedPair(
  columns: readonly PlaygroundColumn[],
  marks: AnswerMarks,
): { better: PlaygroundColumn; worse: PlaygroundColumn } | { problem: string } {
  if (!canMarkAnswers(columns)) return { problem: 'Mark answers once at least two have finished.' };
  const better = columns.find((c) => c.key === marks.better && c.status === 'done');
  const worse = columns.find((c) => c.key === marks.worse && c.status === 'done');
  if (!better || !worse) return { problem: 'Mark one answer better and another worse.' };
  if (better.key === worse.key) return { problem: 'Mark two different answers.' };
  for (const column of [better, worse])
    if (column.text.trim() === '')
      return { problem: `${column.label} gave an empty answer: a pair needs two answers to compare.` };
  if (better.text === worse.text)
    return { problem: 'The two answers are the same: DPO learns nothing from such a pair.' };
  return { better, worse };
}

/**
 * The row for `prompt` with the better answer chosen and the worse rejected, each answer kept exactly as
 * generated (a raw answer continues the prompt, so TRL's prompt + chosen is the very text the model wrote).
 * Conversational only when both answers were generated through the chat template: where just one was (two
 * models, one without a template), the plain strings are kept, since the untemplated answer was written
 * as a continuation of the bare prompt and would be false as an assistant turn.
 */
export function preferenceRow(
  prompt: string,
  better: Pick<PlaygroundColumn, 'text' | 'templated'>,
  worse: Pick<PlaygroundColumn, 'text' | 'templated'>,
): PreferenceRow {
  if (better.templated && worse.templated)
    return {
      prompt: [{ role: 'user', content: prompt }],
      chosen: [{ role: 'assistant', content: better.text }],
      rejected: [{ role: 'assistant', content: worse.text }],
    };
  return { prompt, chosen: better.text, rejected: worse.text };
}

export const preferenceFileNameOf = (row: PreferenceRow) =>
  typeof row.prompt === 'string' ? preferenceFileNames.standard : preferenceFileNames.conversational;

/** `text` (a JSON Lines file, possibly empty or without a final newline) with `row` as its last line. */
export function appendJsonlRow(text: string, row: unknown): string {
  const head = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return `${head}${JSON.stringify(row)}\n`;
}

/** What the playground says about a file of kept pairs. */
export function keptPairsLine(pairs: number, name: string): string {
  return (
    `${pairs} pair${pairs === 1 ? '' : 's'} in ${name}, in the dataset library: ` +
    `choose it there to train DPO on ${pairs === 1 ? 'it' : 'them'}.`
  );
}
