/**
 * Keeps one preference pair in the dataset library: the row is appended to its file (preference-pair.ts
 * names it by the row's form), which is created with the first pair. The whole new file is read in the
 * dataset worker as an import is, so the entry's row count, schema and token statistics stay what the
 * file holds, and only then written (dataset-library.ts `add` or `replace`): a file that does not read
 * as preference pairs, or a full storage, leaves the library as it was and throws for the person to see.
 * Pairs are kept one at a time (the slice queues them), so two quick clicks cannot lose a row.
 */
import type { DatasetEntry, DatasetLibrary, DatasetReadSettings } from '../storage/dataset-library';
import type { DatasetAnalyzer } from '../workers/dataset-client';
import { type AnalysisContext, entryFromAnalysis } from './dataset-slice';
import { appendJsonlRow, type PreferenceRow, preferenceFileNameOf } from './preference-pair';

export interface KeepPairDeps {
  library: () => DatasetLibrary;
  analyzer: () => DatasetAnalyzer;
}

/** The file of kept pairs is in the library but is not read as preference pairs (its schema was changed). */
export class PreferenceFileSchemaError extends Error {
  override readonly name = 'PreferenceFileSchemaError';
}

/** Appends `row` to its file in the library (creating it), and returns the entry as it now stands. */
export async function keepPreferencePairIn(
  deps: KeepPairDeps,
  row: PreferenceRow,
  context: AnalysisContext,
): Promise<DatasetEntry> {
  const fileName = preferenceFileNameOf(row);
  const library = deps.library();
  // The newest entry of that file name: the person may have renamed it, never its file.
  const entry = (await library.list()).findLast((e) => e.fileName === fileName);
  const before = entry ? await (await library.file(entry.id)).text() : '';
  const file = new Blob([appendJsonlRow(before, row)]);
  const settings: DatasetReadSettings = entry?.settings ?? { skipBadRows: false };
  const analysis = await deps.analyzer().analyze({
    file,
    fileName,
    settings,
    tokenizer: context.tokenizer,
    maxLength: context.maxLength,
    ...(context.maskPrompt === undefined ? {} : { maskPrompt: context.maskPrompt }),
  });
  if (analysis.schema.kind !== 'preference')
    throw new PreferenceFileSchemaError(
      `"${entry?.name ?? fileName}" in the dataset library is read as ${analysis.schema.kind} rows, not ` +
        'preference pairs, so the pair was not added. Choose the preference schema for it there, or delete ' +
        'it and keep the pair again to start a new file.',
    );
  const measured = entryFromAnalysis(analysis, fileName, settings);
  if (!entry) return library.add(file, measured);
  const { name: _keepName, fileName: _sameFile, ...patch } = measured;
  return library.replace(entry.id, file, patch);
}
