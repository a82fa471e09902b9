/**
 * A run's result as one download: its files (a PEFT adapter folder for LoRA, a Hugging Face model folder
 * for full fine-tuning) in a tar archive whose one folder is named after the run.
 */
import type { RunRecord } from '../state/run-record';
import { saveBytes } from './save-bytes';
import { writeTar } from './tar';

export function runFolderName(record: Pick<RunRecord, 'id' | 'label'>): string {
  const slug = record.label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `whetstone-${slug}-${record.id.slice(0, 8)}`;
}

export function downloadRun(
  record: Pick<RunRecord, 'id' | 'label'>,
  files: Record<string, Uint8Array>,
): void {
  const folder = runFolderName(record);
  const entries = Object.entries(files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, data]) => ({ path: `${folder}/${name}`, data }));
  saveBytes(`${folder}.tar`, writeTar(entries), 'application/x-tar');
}
