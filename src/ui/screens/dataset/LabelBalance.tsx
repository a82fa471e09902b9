/**
 * The label balance of a classification or sentence-pair dataset: a bar per label with its row count
 * and share, measured by the dataset worker over every parsed row. A data-* attribute on each row holds
 * the raw count, so what is drawn can be checked against what was measured.
 */
import type { DatasetAnalysis } from '../../workers/dataset-protocol';
import '../classification.css';
import { formatShare, labelBalance } from './label-balance';

export function LabelBalanceView({ labels }: { labels: NonNullable<DatasetAnalysis['labels']> }) {
  const balance = labelBalance(labels);
  return (
    <table className="metrics label-balance" data-testid="label-balance" data-total={balance.total}>
      <caption>
        Label balance (measured over all {balance.total.toLocaleString()} labelled rows). A classifier trains
        on them; always answering the largest class would score {formatShare(balance.majorityShare)} accuracy.
      </caption>
      <thead>
        <tr>
          <th scope="col">Label</th>
          <th scope="col">Rows</th>
          <th scope="col">Share</th>
        </tr>
      </thead>
      <tbody>
        {balance.rows.map((row) => (
          <tr key={row.label} data-testid="label-balance-row" data-label={row.label} data-count={row.count}>
            <th scope="row">{row.label}</th>
            <td>{row.count.toLocaleString()}</td>
            <td>
              <span className="share-bar" aria-hidden="true">
                <span style={{ width: `${(row.share * 100).toFixed(1)}%` }} />
              </span>{' '}
              <span data-testid="label-share">{formatShare(row.share)}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
