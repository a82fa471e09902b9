/**
 * Classification labels to class ids. The label set is given (a model's id2label, or the training
 * split's set applied to a validation file) or taken from the data, sorted as HF datasets'
 * class_encode_column sorts it: numbers ascending, strings in code-point order. A label outside the
 * set is a DatasetRowError naming the label and the set.
 */
import type { Example } from './examples';
import { DatasetRowError, snippetOf } from './jsonl';
import { badRow } from './rows';

export type Label = string | number;
type Classified = Extract<Example, { kind: 'classification' }>;

/** A classification row whose label is not in the label set: its own kind of bad row, with both. */
export class DatasetLabelError extends DatasetRowError {
  override readonly name: string = 'DatasetLabelError';
  constructor(
    line: number,
    snippet: string,
    readonly label: Label,
    readonly labelSet: readonly Label[],
    file?: string,
    unit?: 'line' | 'row',
  ) {
    super(
      line,
      snippet,
      `the label ${JSON.stringify(label)} is not in the label set [${labelSet.map((l) => JSON.stringify(l)).join(', ')}]`,
      file,
      unit,
    );
  }
}

export function labelSetOf(examples: readonly Classified[]): Label[] {
  const labels = [...new Set(examples.map((e) => e.label))];
  return labels.sort((a, b) =>
    typeof a === 'number' && typeof b === 'number'
      ? a - b
      : String(a) < String(b)
        ? -1
        : String(a) > String(b)
          ? 1
          : 0,
  );
}

export function labelCounts(examples: readonly Classified[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of examples) counts[String(e.label)] = (counts[String(e.label)] ?? 0) + 1;
  return counts;
}

export interface LabelIds {
  labelSet: Label[];
  /** Class id of each kept example, in order. */
  ids: number[];
  kept: Classified[];
  badRows: DatasetRowError[];
}

export function labelIds(
  examples: readonly Classified[],
  options: { labelSet?: Label[]; file?: string; unit?: 'line' | 'row'; skipBadRows?: boolean } = {},
): LabelIds {
  const labelSet = options.labelSet ?? labelSetOf(examples);
  const index = new Map(labelSet.map((label, i) => [String(label), i]));
  const result: LabelIds = { labelSet, ids: [], kept: [], badRows: [] };
  for (const example of examples) {
    const id = index.get(String(example.label));
    if (id === undefined) {
      const error = new DatasetLabelError(
        example.line,
        snippetOf(example.text),
        example.label,
        labelSet,
        options.file,
        options.unit,
      );
      badRow(error, options, result.badRows);
      continue;
    }
    result.ids.push(id);
    result.kept.push(example);
  }
  return result;
}
