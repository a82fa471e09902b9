/**
 * What a dataset file read as, once the worker is done: the counts (rows, bad rows skipped, examples),
 * token-length statistics measured with the chosen model's tokenizer, the first rows as the model sees
 * them, a histogram of lengths and, for labelled rows, the label balance; or, when it could not be read,
 * the error with its line and the ways forward (skip bad rows, choose a schema and map columns).
 */
import { useAppStore } from '../../state/store';
import type { DatasetAnalysis } from '../../workers/dataset-protocol';
import { FilePreview } from './FilePreview';
import { LabelBalanceView } from './LabelBalance';
import { SchemaEditor } from './SchemaEditor';
import { TokenHistogram } from './TokenHistogram';
import { useAnalysisContext } from './use-analysis-context';

const FORMAT_LABELS: Record<string, string> = {
  jsonl: 'JSON Lines',
  json: 'JSON',
  csv: 'CSV',
  tsv: 'TSV',
  parquet: 'Parquet',
  text: 'plain text',
};

const round = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function Summary({ analysis }: { analysis: DatasetAnalysis }) {
  const t = analysis.tokens;
  return (
    <>
      <p data-testid="dataset-count" data-count={analysis.examples}>
        <strong>{analysis.examples.toLocaleString()}</strong> example{analysis.examples === 1 ? '' : 's'} from{' '}
        {analysis.file} ({FORMAT_LABELS[analysis.format] ?? analysis.format}, {analysis.schema.kind} schema
        {analysis.schemaDetected ? ', detected' : ', as you chose'}).{' '}
        <span
          className="muted"
          data-testid="dataset-rows"
          data-rows={analysis.rows}
          data-bad-rows={analysis.badRows}
        >
          {analysis.rows.toLocaleString()} rows read
          {analysis.badRows ? `, ${analysis.badRows.toLocaleString()} bad rows skipped` : ', none bad'}.
        </span>
      </p>
      {analysis.badRowSamples.length > 0 && (
        <details className="bad-rows">
          <summary>The first bad rows</summary>
          <ul>
            {analysis.badRowSamples.map((bad) => (
              <li key={bad.line}>{bad.message}</li>
            ))}
          </ul>
        </details>
      )}
      {analysis.labels && <LabelBalanceView labels={analysis.labels} />}
      {t && (
        <table className="metrics token-stats" data-testid="token-stats" aria-label="Token lengths, measured">
          <tbody>
            <tr>
              <th scope="row">Tokens per example (measured with {t.modelId})</th>
              <td>
                min {t.min} · mean {round(t.mean)} · median {round(t.p50)} · p95 {round(t.p95)} · max {t.max}
              </td>
            </tr>
            <tr>
              <th scope="row">Tokens in all</th>
              <td data-testid="token-total" data-total={t.total}>
                {t.total.toLocaleString()}
                {t.trained !== undefined ? `, of which ${t.trained.toLocaleString()} trained` : ''}
              </td>
            </tr>
            <tr>
              <th scope="row">Template</th>
              <td>
                {t.template === 'model'
                  ? "the model's chat template"
                  : t.template === 'fallback'
                    ? 'the fallback template (the model has none)'
                    : 'none (no chat examples)'}
              </td>
            </tr>
            {t.overMaxLength !== undefined && (
              <tr>
                <th scope="row">Longer than the sequence length</th>
                <td data-testid="over-max-length">{t.overMaxLength.toLocaleString()} (training cuts them)</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </>
  );
}

export function DatasetFileView() {
  const work = useAppStore((s) => s.dataset.work);
  const activeEntry = useAppStore((s) =>
    s.dataset.library.entries.find((e) => e.id === s.dataset.library.activeId),
  );
  const rereadDataset = useAppStore((s) => s.rereadDataset);
  const context = useAnalysisContext();
  const apply = (change: Parameters<typeof rereadDataset>[0]) => void rereadDataset(change, context);

  if (work.status === 'failed') {
    const { error, pending } = work;
    const where = error.line === undefined ? '' : `${error.unit === 'row' ? 'Row' : 'Line'} ${error.line}: `;
    return (
      <div className="dataset-file-error">
        <p
          className="dataset-error"
          role="alert"
          data-testid="dataset-file-error"
          data-line={error.line}
          data-error={error.name}
        >
          <strong>{where}</strong>
          {error.message}
        </p>
        {error.name === 'DatasetRowError' && !pending.settings.skipBadRows && (
          <button type="button" data-testid="skip-bad-rows" onClick={() => apply({ skipBadRows: true })}>
            Skip bad rows and read the rest
          </button>
        )}
        {error.columns && (
          <SchemaEditor
            key={pending.fileName}
            columns={error.columns}
            settings={pending.settings}
            isPlainText={false}
            onApply={apply}
          />
        )}
      </div>
    );
  }
  if (work.status !== 'ready') return null;
  const { analysis } = work;
  return (
    <div className="dataset-file" data-testid="dataset-file-view">
      <Summary analysis={analysis} />
      <FilePreview rows={analysis.preview} tokenized={analysis.tokens !== undefined} />
      <TokenHistogram bins={analysis.histogram} maxLength={context.maxLength} />
      <details className="schema-details">
        <summary>Change the schema or map columns by hand</summary>
        <SchemaEditor
          key={`${work.entryId}:${JSON.stringify(analysis.schema)}`}
          columns={analysis.columns}
          schema={analysis.schema}
          settings={activeEntry?.settings ?? { skipBadRows: analysis.badRows > 0 }}
          isPlainText={analysis.format === 'text'}
          onApply={apply}
        />
      </details>
    </div>
  );
}
