/**
 * How the studio writes measured numbers. One function per kind of number, so a loss reads the same in
 * the metrics table, the summary table and the history. Non-finite values are shown as they are
 * ("NaN", "Infinity"): a diverged run must look diverged, not blank.
 */
export { formatBytes } from '../adapter/format-limit';

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

const nonFinite = (v: number) => (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');

export function formatLoss(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : nonFinite(v);
}

export function formatLearningRate(v: number): string {
  return Number.isFinite(v) ? v.toExponential(2) : nonFinite(v);
}

export function formatGradNorm(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(4) : nonFinite(v);
}

export function formatCount(v: number): string {
  return Number.isFinite(v) ? grouped.format(v) : nonFinite(v);
}

export function formatRate(tokensPerSecond: number): string {
  if (!Number.isFinite(tokensPerSecond)) return nonFinite(tokensPerSecond);
  return tokensPerSecond < 100 ? tokensPerSecond.toFixed(1) : grouped.format(tokensPerSecond);
}

/** A step's time: "84.2 ms", "1.25 s". */
export function formatStepTime(ms: number): string {
  if (!Number.isFinite(ms)) return nonFinite(ms);
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A wall-clock span: "4.2 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return nonFinite(ms);
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** part / total as a percentage with enough digits to be non-zero when part is: "12.5%", "0.031%". */
export function formatPercent(part: number, total: number): string {
  if (!(total > 0)) return '—';
  const percent = (100 * part) / total;
  if (percent === 0 || percent >= 1) return `${percent.toFixed(percent >= 100 ? 0 : 1)}%`;
  return `${percent.toPrecision(2)}%`;
}
