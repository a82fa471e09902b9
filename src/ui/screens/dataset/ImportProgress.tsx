/**
 * The dataset worker's progress on the current file: a progress bar of bytes parsed of the file's size
 * (the file is parsed as its stream arrives), then of examples tokenized.
 */

import { useAppStore } from '../../state/store';
import { formatBytes } from '../../storage/storage-quota';

export function ImportProgress() {
  const work = useAppStore((s) => s.dataset.work);
  if (work.status !== 'working') return null;
  const label =
    work.phase === 'reading'
      ? `Reading ${work.fileName}: ${formatBytes(work.done)} of ${formatBytes(work.total)}`
      : `Counting tokens: ${work.done.toLocaleString()} of ${work.total.toLocaleString()} examples`;
  return (
    <div className="dataset-progress" data-testid="dataset-progress" data-phase={work.phase}>
      <label htmlFor="dataset-progress-bar">{label}</label>
      <progress id="dataset-progress-bar" value={work.done} max={Math.max(1, work.total)} />
    </div>
  );
}
