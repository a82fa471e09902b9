/**
 * Rows into examples of four shapes, whatever schema they came in:
 * - text: a document, trained on whole;
 * - prompt-completion: two strings, tokenized as TRL does (prompt + completion, no chat template);
 * - chat: messages with roles user/assistant/system/tool. Chat, ShareGPT (human→user, gpt→assistant)
 *   and Alpaca (user = instruction, then a blank line and the input when there is one; assistant =
 *   output) all become chat, as does a prompt-completion row whose values are message lists (TRL's
 *   conversational prompt-completion: only messages from `trainFrom` on are trained);
 * - classification: a text (and a second text, for sentence pairs) with its label. Labels that are all
 *   integer-like strings (CSV and TSV cells, MRPC's Quality) become numbers, as pandas reads them;
 * - preference: a prompt with a chosen and a rejected response, as TRL's DPOTrainer reads them: all three
 *   strings (standard) or all three message lists (conversational). Without a prompt, TRL's
 *   extract_prompt finds it (extractPrompt below). SFT on such a row trains on the prompt and the chosen
 *   response (chosenAsCompletion).
 * A row that does not fit its schema is a DatasetRowError naming its line and the field.
 */
import type { ChatMessage } from '../text/tokenizer';
import type { RawDataset } from './formats';
import { DatasetRowError, snippetOf } from './jsonl';
import { badRow, type DatasetRow } from './rows';
import type { SchemaChoice } from './schema';

export type Example =
  | { kind: 'text'; line: number; text: string }
  | { kind: 'prompt-completion'; line: number; prompt: string; completion: string }
  | { kind: 'chat'; line: number; messages: ChatMessage[]; trainFrom: number }
  | { kind: 'classification'; line: number; text: string; textPair?: string; label: string | number }
  | PreferenceExample;

/** A preference pair before tokenization: standard (strings) or conversational (message lists), never mixed. */
export type PreferenceExample =
  | { kind: 'preference'; line: number; prompt: string; chosen: string; rejected: string }
  | {
      kind: 'preference';
      line: number;
      prompt: ChatMessage[];
      chosen: ChatMessage[];
      rejected: ChatMessage[];
    };

export type ConversationalPreference = Extract<PreferenceExample, { prompt: ChatMessage[] }>;
export type StandardPreference = Extract<PreferenceExample, { prompt: string }>;

/** TRL's is_conversational for a preference example: its fields are message lists. */
export function isConversationalPreference(example: PreferenceExample): example is ConversationalPreference {
  return Array.isArray(example.prompt);
}

/**
 * The SFT example of a preference pair: the prompt followed by the chosen response, as a prompt-completion
 * example (standard) or a conversational prompt-completion, which trains only the chosen messages.
 */
export function chosenAsCompletion(example: PreferenceExample): Example {
  const { line } = example;
  if (isConversationalPreference(example))
    return {
      kind: 'chat',
      line,
      messages: [...example.prompt, ...example.chosen],
      trainFrom: example.prompt.length,
    };
  return { kind: 'prompt-completion', line, prompt: example.prompt, completion: example.chosen };
}

/**
 * How many leading items of chosen and rejected are their shared prompt, as TRL's extract_prompt loop
 * leaves its index: the first position where they differ, moved back one when the item before it is a
 * space (strings: the space starts the responses); when one is a prefix of the other, the last shared
 * item stays with the responses, so neither is left empty. Unlike TRL, a difference at the very first
 * item gives an empty prompt (Python's chosen[-1] would look at the last character). Needs both non-empty.
 */
export function sharedPromptLength<T>(
  chosen: readonly T[],
  rejected: readonly T[],
  same: (a: T, b: T) => boolean,
  space?: T,
): number {
  const n = Math.min(chosen.length, rejected.length);
  for (let i = 0; i < n; i++)
    if (!same(chosen[i] as T, rejected[i] as T))
      return i > 0 && space !== undefined && chosen[i - 1] === space ? i - 1 : i;
  return n - 1;
}

/** TRL's extract_prompt on strings (by code point, as Python indexes them) or on message lists. */
export function extractPrompt(chosen: string, rejected: string): [string, string, string];
export function extractPrompt(
  chosen: ChatMessage[],
  rejected: ChatMessage[],
): [ChatMessage[], ChatMessage[], ChatMessage[]];
export function extractPrompt(
  chosen: string | ChatMessage[],
  rejected: string | ChatMessage[],
): [string, string, string] | [ChatMessage[], ChatMessage[], ChatMessage[]] {
  if (typeof chosen === 'string' && typeof rejected === 'string') {
    const c = [...chosen];
    const r = [...rejected];
    const k = sharedPromptLength(c, r, (a, b) => a === b, ' ');
    return [c.slice(0, k).join(''), c.slice(k).join(''), r.slice(k).join('')];
  }
  if (Array.isArray(chosen) && Array.isArray(rejected)) {
    const k = sharedPromptLength(chosen, rejected, (a, b) => a.role === b.role && a.content === b.content);
    return [chosen.slice(0, k), chosen.slice(k), rejected.slice(k)];
  }
  throw new TypeError('extractPrompt needs two strings or two message lists');
}

/** ShareGPT's speaker names (and a few variants seen on the hub) to chat roles. */
export const SHAREGPT_ROLES: Readonly<Record<string, string>> = {
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  chatgpt: 'assistant',
  model: 'assistant',
  system: 'system',
  tool: 'tool',
  function_response: 'tool',
  observation: 'tool',
};

/** A row's problem; the caller turns it into a DatasetRowError with the line and snippet. */
class RowProblem extends Error {}

function stringField(value: unknown, column: string, optional = false): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if ((value === undefined || value === null) && optional) return '';
  if (value === undefined || value === null) throw new RowProblem(`the column "${column}" is empty`);
  throw new RowProblem(
    `the column "${column}" holds ${Array.isArray(value) ? 'a list' : 'an object'}, not text`,
  );
}

/** Message content as text: a string, or a list of parts whose text parts are joined (multimodal chat). */
function contentText(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((part) => (part && typeof part === 'object' && 'text' in part ? String(part.text) : ''))
      .join('');
  throw new RowProblem(`${where} has no text content`);
}

/** A list of {role, content} (chat) or {from, value} (ShareGPT) messages, roles mapped to chat roles. */
function messagesOf(value: unknown, column: string): ChatMessage[] {
  if (!Array.isArray(value)) throw new RowProblem(`the column "${column}" is not a list of messages`);
  return value.map((message: unknown, i) => {
    const where = `message ${i + 1} of "${column}"`;
    if (!message || typeof message !== 'object') throw new RowProblem(`${where} is not an object`);
    const m = message as Record<string, unknown>;
    const speaker = m.role ?? m.from;
    const role = typeof speaker === 'string' ? SHAREGPT_ROLES[speaker.toLowerCase()] : undefined;
    if (!role)
      throw new RowProblem(
        `${where} has the role ${JSON.stringify(speaker)}; known roles: ${Object.keys(SHAREGPT_ROLES).join(', ')}`,
      );
    return { role, content: contentText(m.content ?? m.value, where) };
  });
}

function requireAssistant(messages: ChatMessage[], from: number, column: string): void {
  if (!messages.slice(from).some((m) => m.role === 'assistant'))
    throw new RowProblem(`"${column}" has no assistant message to train on`);
}

function label(value: unknown, column: string): string | number {
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw new RowProblem(
    `the label column "${column}" is ${value === undefined || value === null ? 'empty' : 'not a label'}`,
  );
}

const isEmpty = (value: unknown) =>
  value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);

/**
 * A preference row: chosen and rejected must be there and non-empty, and prompt, chosen and rejected all
 * text or all message lists. A prompt column left empty in a row means the prompt is extracted, as for a
 * file without one.
 */
function preferenceOf(
  line: number,
  get: (field: string) => unknown,
  col: (field: string) => string,
  hasPromptColumn: boolean,
): PreferenceExample {
  const chosen = get('chosen');
  const rejected = get('rejected');
  const prompt = hasPromptColumn ? get('prompt') : undefined;
  for (const [field, value] of [
    ['chosen', chosen],
    ['rejected', rejected],
  ] as const)
    if (isEmpty(value))
      throw new RowProblem(
        `the ${field} response (column "${col(field)}") is empty; a preference pair needs both a chosen and a rejected response`,
      );
  const conversational = Array.isArray(chosen);
  const implicit = prompt === undefined || prompt === null;
  const mixed =
    Array.isArray(rejected) !== conversational
      ? 'rejected'
      : !implicit && Array.isArray(prompt) !== conversational
        ? 'prompt'
        : undefined;
  if (mixed)
    throw new RowProblem(
      `"${col(mixed)}" is ${conversational ? 'text' : 'a list of messages'} but "${col('chosen')}" is ` +
        `${conversational ? 'a list of messages' : 'text'}; prompt, chosen and rejected must all be text or all ` +
        'message lists (leave the prompt unmapped to extract it from the conversations)',
    );
  if (conversational) {
    const c = messagesOf(chosen, col('chosen'));
    const r = messagesOf(rejected, col('rejected'));
    const [p, pc, pr] = implicit ? extractPrompt(c, r) : [messagesOf(prompt, col('prompt')), c, r];
    return { kind: 'preference', line, prompt: p, chosen: pc, rejected: pr };
  }
  const c = stringField(chosen, col('chosen'));
  const r = stringField(rejected, col('rejected'));
  const [p, pc, pr] = implicit ? extractPrompt(c, r) : [stringField(prompt, col('prompt')), c, r];
  return { kind: 'preference', line, prompt: p, chosen: pc, rejected: pr };
}

function exampleOf(row: DatasetRow, schema: SchemaChoice): Example {
  const col = (field: string) => schema.columns[field] ?? field;
  const get = (field: string) => row.value[col(field)];
  const line = row.line;
  switch (schema.kind) {
    case 'preference':
      return preferenceOf(line, get, col, schema.columns.prompt !== undefined);
    case 'text':
      return { kind: 'text', line, text: stringField(get('text'), col('text')) };
    case 'prompt-completion': {
      const prompt = get('prompt');
      const completion = get('completion');
      if (Array.isArray(prompt) || Array.isArray(completion)) {
        const promptMessages = messagesOf(prompt, col('prompt'));
        const messages = [...promptMessages, ...messagesOf(completion, col('completion'))];
        requireAssistant(messages, promptMessages.length, col('completion'));
        return { kind: 'chat', line, messages, trainFrom: promptMessages.length };
      }
      return {
        kind: 'prompt-completion',
        line,
        prompt: stringField(prompt, col('prompt')),
        completion: stringField(completion, col('completion')),
      };
    }
    case 'alpaca': {
      const instruction = stringField(get('instruction'), col('instruction'));
      const input = schema.columns.input ? stringField(get('input'), col('input'), true) : '';
      const output = stringField(get('output'), col('output'));
      const user = input.trim() ? `${instruction}\n\n${input}` : instruction;
      const messages = [
        { role: 'user', content: user },
        { role: 'assistant', content: output },
      ];
      return { kind: 'chat', line, messages, trainFrom: 0 };
    }
    case 'chat':
    case 'sharegpt': {
      const field = schema.kind === 'chat' ? 'messages' : 'conversations';
      const messages = messagesOf(get(field), col(field));
      requireAssistant(messages, 0, col(field));
      return { kind: 'chat', line, messages, trainFrom: 0 };
    }
    case 'classification':
      return {
        kind: 'classification',
        line,
        text: stringField(get('text'), col('text')),
        label: label(get('label'), col('label')),
      };
    case 'sentence-pair':
      return {
        kind: 'classification',
        line,
        text: stringField(get('sentence1'), col('sentence1')),
        textPair: stringField(get('sentence2'), col('sentence2')),
        label: label(get('label'), col('label')),
      };
  }
}

export interface ExampleSet {
  examples: Example[];
  badRows: DatasetRowError[];
}

export function toExamples(
  dataset: RawDataset,
  schema: SchemaChoice,
  options: { skipBadRows?: boolean } = {},
): ExampleSet {
  const examples: Example[] = [];
  const badRows: DatasetRowError[] = [];
  for (const row of dataset.rows) {
    try {
      examples.push(exampleOf(row, schema));
    } catch (error) {
      if (!(error instanceof RowProblem)) throw error;
      const snippet = snippetOf(JSON.stringify(row.value) ?? '');
      badRow(
        new DatasetRowError(row.line, snippet, error.message, dataset.file, dataset.unit),
        options,
        badRows,
      );
    }
  }
  if (
    examples.every(
      (e) => e.kind === 'classification' && typeof e.label === 'string' && /^-?\d+$/.test(e.label),
    )
  )
    for (const e of examples) if (e.kind === 'classification') e.label = Number(e.label);
  return { examples, badRows };
}
