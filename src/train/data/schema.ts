/**
 * The schemas a dataset can have, detected from its column names, overridable, with columns mapped by
 * hand. A schema names fields; a `SchemaChoice` maps each field to a column. Detection tries, in order:
 *   preference (chosen and rejected, optional prompt: TRL's preference datasets) · chat (messages) ·
 *   sharegpt (conversations) · alpaca (instruction, output, optional input; Dolly's context/response
 *   too) · prompt-completion · sentence-pair (sentence1/sentence2, MRPC's
 *   "#1 String"/"#2 String", question1/question2, premise/hypothesis, question/sentence; with label or
 *   MRPC's Quality) · classification (text or sentence, with label) · text.
 * Richer schemas come first, so a file with text and label is classification, not plain text.
 */
import { MissingColumnError, SchemaDetectionError } from './errors';

export type SchemaKind =
  | 'text'
  | 'prompt-completion'
  | 'alpaca'
  | 'chat'
  | 'sharegpt'
  | 'classification'
  | 'sentence-pair'
  | 'preference';

interface FieldSpec {
  /** Column names this field is found under, the first present winning. */
  aliases: readonly string[];
  optional?: boolean;
}

export const SCHEMA_FIELDS: Record<SchemaKind, Record<string, FieldSpec>> = {
  text: { text: { aliases: ['text'] } },
  'prompt-completion': { prompt: { aliases: ['prompt'] }, completion: { aliases: ['completion'] } },
  alpaca: {
    instruction: { aliases: ['instruction'] },
    input: { aliases: ['input', 'context'], optional: true },
    output: { aliases: ['output', 'response'] },
  },
  chat: { messages: { aliases: ['messages'] } },
  sharegpt: { conversations: { aliases: ['conversations'] } },
  classification: { text: { aliases: ['text', 'sentence'] }, label: { aliases: ['label', 'labels'] } },
  'sentence-pair': {
    sentence1: { aliases: ['sentence1'] },
    sentence2: { aliases: ['sentence2'] },
    label: { aliases: ['label', 'labels', 'Quality'] },
  },
  preference: {
    prompt: { aliases: ['prompt'], optional: true },
    chosen: { aliases: ['chosen'] },
    rejected: { aliases: ['rejected'] },
  },
};

/** Column pairs that are sentence pairs in GLUE and its kin, tried in order. */
const SENTENCE_PAIRS: readonly (readonly [string, string])[] = [
  ['sentence1', 'sentence2'],
  ['#1 String', '#2 String'], // MRPC's msr_paraphrase_*.txt
  ['question1', 'question2'], // QQP
  ['premise', 'hypothesis'], // MNLI, RTE in some copies
  ['question', 'sentence'], // QNLI
];

const DETECTION_ORDER: readonly SchemaKind[] = [
  'preference',
  'chat',
  'sharegpt',
  'alpaca',
  'prompt-completion',
  'sentence-pair',
  'classification',
  'text',
];

export interface SchemaChoice {
  kind: SchemaKind;
  /** Field name → column name; an optional field may be absent. */
  columns: Record<string, string>;
}

/** What the person chose: a schema, and the columns they mapped by hand (the rest found by alias). */
export interface SchemaOverride {
  kind: SchemaKind;
  columns?: Record<string, string>;
}

function fieldColumn(kind: SchemaKind, field: string, present: ReadonlySet<string>): string | undefined {
  if (kind === 'sentence-pair' && field !== 'label') {
    const pair = SENTENCE_PAIRS.find(([a, b]) => present.has(a) && present.has(b));
    return pair?.[field === 'sentence1' ? 0 : 1];
  }
  return SCHEMA_FIELDS[kind][field]?.aliases.find((alias) => present.has(alias));
}

/** The schema's mapping from aliases, or undefined when a required field has no column. */
function tryMatch(kind: SchemaKind, present: ReadonlySet<string>): SchemaChoice | undefined {
  const columns: Record<string, string> = {};
  for (const [field, spec] of Object.entries(SCHEMA_FIELDS[kind])) {
    const column = fieldColumn(kind, field, present);
    if (column !== undefined) columns[field] = column;
    else if (!spec.optional) return undefined;
  }
  return { kind, columns };
}

export function detectSchema(columns: readonly string[], file = 'the dataset'): SchemaChoice {
  const present = new Set(columns);
  for (const kind of DETECTION_ORDER) {
    const match = tryMatch(kind, present);
    if (match) return match;
  }
  throw new SchemaDetectionError(file, columns);
}

/**
 * The person's choice made complete: every hand-mapped column must exist, and every required field
 * left unmapped is found by its aliases, or else named in a MissingColumnError with the columns there are.
 */
export function resolveSchema(
  columns: readonly string[],
  override: SchemaOverride,
  file = 'the dataset',
): SchemaChoice {
  const present = new Set(columns);
  const fields = SCHEMA_FIELDS[override.kind];
  const resolved: Record<string, string> = {};
  for (const [field, column] of Object.entries(override.columns ?? {})) {
    if (!(field in fields))
      throw new RangeError(
        `The ${override.kind} schema has no field "${field}"; its fields are ${Object.keys(fields).join(', ')}.`,
      );
    if (!present.has(column)) throw new MissingColumnError(file, column, field, override.kind, columns);
    resolved[field] = column;
  }
  for (const [field, spec] of Object.entries(fields)) {
    if (resolved[field] !== undefined) continue;
    const column = fieldColumn(override.kind, field, present);
    if (column !== undefined) resolved[field] = column;
    else if (!spec.optional)
      throw new MissingColumnError(file, spec.aliases[0] ?? field, field, override.kind, columns);
  }
  return { kind: override.kind, columns: resolved };
}
