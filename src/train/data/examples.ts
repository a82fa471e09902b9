/**
 * Rows into examples of four shapes, whatever schema they came in:
 * - text: a document, trained on whole;
 * - prompt-completion: two strings, tokenized as TRL does (prompt + completion, no chat template);
 * - chat: messages with roles user/assistant/system/tool. Chat, ShareGPT (human→user, gpt→assistant)
 *   and Alpaca (user = instruction, then a blank line and the input when there is one; assistant =
 *   output) all become chat, as does a prompt-completion row whose values are message lists (TRL's
 *   conversational prompt-completion: only messages from `trainFrom` on are trained);
 * - classification: a text (and a second text, for sentence pairs) with its label. Labels that are all
 *   integer-like strings (CSV and TSV cells, MRPC's Quality) become numbers, as pandas reads them.
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
  | { kind: 'classification'; line: number; text: string; textPair?: string; label: string | number };

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

function exampleOf(row: DatasetRow, schema: SchemaChoice): Example {
  const col = (field: string) => schema.columns[field] ?? field;
  const get = (field: string) => row.value[col(field)];
  const line = row.line;
  switch (schema.kind) {
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
