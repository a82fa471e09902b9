/**
 * A classification dataset's label balance: each label's row count and its share of all labelled rows,
 * from the counts the dataset worker measured over every parsed row (dataset-analysis.ts), in the
 * label set's order (the class-id order a classifier trains with). Shares are exact fractions; the view
 * rounds them. A dataset whose largest class holds most rows is flagged, since accuracy alone then hides
 * a model that always answers that class (F1 does not).
 */
import type { Label } from '../../../train/data/labels';

export interface LabelShare {
  label: string;
  count: number;
  /** count / total, in [0, 1]. */
  share: number;
}

export interface LabelBalance {
  rows: LabelShare[];
  total: number;
  /** The largest class's share: what always answering it would score as accuracy. */
  majorityShare: number;
}

export function labelBalance(labels: { set: Label[]; counts: Record<string, number> }): LabelBalance {
  const counts = labels.set.map((label) => ({
    label: String(label),
    count: labels.counts[String(label)] ?? 0,
  }));
  const total = counts.reduce((n, c) => n + c.count, 0);
  const rows = counts.map((c) => ({ ...c, share: total > 0 ? c.count / total : 0 }));
  return { rows, total, majorityShare: rows.reduce((m, r) => Math.max(m, r.share), 0) };
}

/** "12.5%" with one decimal, "100%" and "0%" without. */
export function formatShare(share: number): string {
  const percent = share * 100;
  return Number.isInteger(percent) ? `${percent}%` : `${percent.toFixed(1)}%`;
}
