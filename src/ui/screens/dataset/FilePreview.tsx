/**
 * The first rows of a file as the model sees them: the chat template applied and special tokens shown,
 * prompt spans (label -100, not trained) marked apart from trained spans, and each row's token count.
 * Classification rows show their text, pair and label instead.
 */
import type { PreviewRow } from '../../workers/dataset-protocol';

function RowText({ row }: { row: PreviewRow }) {
  if (row.kind === 'untokenized') return <span className="span-trained">{row.text}</span>;
  if (row.kind === 'classification')
    return (
      <>
        <span>{row.text}</span>
        {row.textPair !== undefined && <span className="pair"> ⟷ {row.textPair}</span>}
        <span className="label-chip" data-testid="preview-label">
          label {String(row.label)}
        </span>
      </>
    );
  return (
    <>
      {row.spans.map((span, i) => (
        <span
          // biome-ignore lint/suspicious/noArrayIndexKey: spans are fixed for a row and have no identity of their own.
          key={i}
          className={span.trained ? 'span-trained' : 'span-masked'}
          data-testid={span.trained ? 'span-trained' : 'span-masked'}
          title={
            span.trained
              ? 'Trained: the loss is measured on these tokens'
              : 'Masked (label -100): not trained'
          }
        >
          {span.text}
        </span>
      ))}
    </>
  );
}

function tokenCell(row: PreviewRow): string {
  if (row.kind === 'tokens') return `${row.tokens} (${row.trainedTokens} trained)`;
  if (row.kind === 'classification' && row.tokens !== undefined) return String(row.tokens);
  return '—';
}

export function FilePreview({ rows, tokenized }: { rows: PreviewRow[]; tokenized: boolean }) {
  return (
    <>
      {rows.some((r) => r.kind === 'tokens') && (
        <p className="preview-legend muted">
          <span className="span-masked">Masked prompt (label -100)</span>{' '}
          <span className="span-trained">Trained tokens</span>
        </p>
      )}
      <table className="preview file-preview" aria-label="First rows as the model sees them">
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col">As the model sees it</th>
            <th scope="col">{tokenized ? 'Tokens' : 'Tokens (no tokenizer)'}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.line} data-testid="preview-row" data-line={row.line}>
              <td>{row.line}</td>
              <td className="model-text">
                <RowText row={row} />
              </td>
              <td
                data-testid="preview-tokens"
                data-tokens={row.kind === 'untokenized' ? undefined : row.tokens}
              >
                {tokenCell(row)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
