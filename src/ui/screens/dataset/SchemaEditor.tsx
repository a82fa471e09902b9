/**
 * The schema the file is read with, changeable: the schema kind, which column feeds each of its fields
 * (or "found by name" to let the aliases decide), whether bad rows are skipped, and for plain text how
 * it splits into examples. "Read again" sends the file back to the worker with these choices.
 */
import { useState } from 'react';
import type { PlainTextMode } from '../../../train/data/plain-text';
import { SCHEMA_FIELDS, type SchemaChoice, type SchemaKind } from '../../../train/data/schema';
import type { DatasetReadSettings } from '../../storage/dataset-library';

const KIND_LABELS: Record<SchemaKind, string> = {
  text: 'Text',
  'prompt-completion': 'Prompt / completion',
  alpaca: 'Alpaca (instruction / input / output)',
  chat: 'Chat (messages)',
  sharegpt: 'ShareGPT (conversations)',
  classification: 'Classification (text / label)',
  'sentence-pair': 'Sentence pairs (sentence1 / sentence2 / label)',
  preference: 'Preference pairs (prompt / chosen / rejected)',
};

const TEXT_MODES: [PlainTextMode, string][] = [
  ['blocks', 'One example per blank-line-separated block'],
  ['lines', 'One example per line'],
  ['whole', 'The whole text, cut into sequences'],
];

interface Props {
  columns: string[];
  /** The schema now in use (detected or chosen), or none when detection failed. */
  schema?: SchemaChoice;
  settings: DatasetReadSettings;
  isPlainText: boolean;
  onApply(change: Partial<DatasetReadSettings>): void;
}

export function SchemaEditor({ columns, schema, settings, isPlainText, onApply }: Props) {
  const [kind, setKind] = useState<SchemaKind>(schema?.kind ?? settings.schema?.kind ?? 'text');
  const [mapping, setMapping] = useState<Record<string, string>>(schema?.columns ?? {});
  const [skipBadRows, setSkipBadRows] = useState(settings.skipBadRows);
  const [textMode, setTextMode] = useState<PlainTextMode>(settings.textMode ?? 'blocks');
  const fields = Object.entries(SCHEMA_FIELDS[kind]);

  const apply = () => {
    const chosen = Object.fromEntries(
      fields.flatMap(([field]) =>
        mapping[field] && columns.includes(mapping[field]) ? [[field, mapping[field]]] : [],
      ),
    );
    onApply({
      schema: { kind, columns: chosen },
      skipBadRows,
      ...(isPlainText ? { textMode } : {}),
    });
  };

  return (
    <fieldset className="schema-editor" data-testid="schema-editor">
      <legend>Schema and columns</legend>
      <div className="setting wide">
        <label htmlFor="schema-kind">Schema</label>
        <select
          id="schema-kind"
          data-testid="schema-kind"
          value={kind}
          onChange={(event) => {
            setKind(event.target.value as SchemaKind);
            setMapping({});
          }}
        >
          {(Object.keys(KIND_LABELS) as SchemaKind[]).map((k) => (
            <option key={k} value={k}>
              {KIND_LABELS[k]}
            </option>
          ))}
        </select>
      </div>
      {fields.map(([field, spec]) => (
        <div className="setting" key={field}>
          <label htmlFor={`map-${field}`}>
            {field}
            {spec.optional ? ' (optional)' : ''}
          </label>
          <select
            id={`map-${field}`}
            data-testid={`map-${field}`}
            value={mapping[field] ?? ''}
            onChange={(event) => setMapping({ ...mapping, [field]: event.target.value })}
          >
            <option value="">(found by name)</option>
            {columns.map((column) => (
              <option key={column} value={column}>
                {column}
              </option>
            ))}
          </select>
        </div>
      ))}
      {isPlainText && (
        <div className="setting wide">
          <label htmlFor="text-mode">Plain text</label>
          <select
            id="text-mode"
            data-testid="text-mode"
            value={textMode}
            onChange={(event) => setTextMode(event.target.value as PlainTextMode)}
          >
            {TEXT_MODES.map(([mode, label]) => (
              <option key={mode} value={mode}>
                {label}
              </option>
            ))}
          </select>
        </div>
      )}
      <label className="checkbox">
        <input
          type="checkbox"
          data-testid="skip-bad-rows-toggle"
          checked={skipBadRows}
          onChange={(event) => setSkipBadRows(event.target.checked)}
        />{' '}
        Skip bad rows (and count them)
      </label>
      <div className="actions">
        <button type="button" data-testid="apply-schema" onClick={apply}>
          Read again with these settings
        </button>
      </div>
    </fieldset>
  );
}
