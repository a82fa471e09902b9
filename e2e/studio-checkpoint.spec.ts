/**
 * Checkpoints outlive the tab, end to end: a LoRA run checkpoints as it trains (to IndexedDB, with its
 * spec), the tab reloads mid-run, the history shows the run as interrupted with "Resume from step N",
 * and resuming trains the remaining steps from that checkpoint to the end, its time axis going on from
 * where the checkpoint left it rather than from 0. Screenshots are attached.
 */
import { expect, type Page, test } from '@playwright/test';
import { idbValue, instrument, loadWorkerOnce, sentences, snap } from './studio-helpers';

interface Recorded {
  kind: string;
  runId?: string;
  step?: number;
  progress?: { step: number; elapsedMs: number };
}

const recorded = (page: Page) => page.evaluate(() => window.__workerEvents) as Promise<Recorded[]>;

test('a run checkpointed before a reload resumes from its step and finishes', async ({ page }, testInfo) => {
  test.setTimeout(400_000);
  await instrument(page);
  await loadWorkerOnce(page);
  await page.goto('/');
  await page.getByTestId('dataset-text').fill(sentences.join('\n'));
  // 16 steps: a checkpoint every 4 (a quarter of the run).
  await page.getByTestId('setting-steps').fill('16');
  await page.getByTestId('setting-evalEvery').fill('0');
  await page.getByRole('radio', { name: /^LoRA/ }).check();
  await page.getByTestId('start-single').click();
  const card = page.getByTestId('run-card');
  await expect(card).toHaveCount(1);
  const runId = (await card.getAttribute('data-run-id')) as string;

  // The first checkpoint arrives; once it is on disk, pause (so the run cannot finish) and reload.
  await expect
    .poll(async () => (await recorded(page)).some((e) => e.kind === 'checkpoint' && e.runId === runId), {
      timeout: 180_000,
    })
    .toBe(true);
  await card.getByTestId('pause-run').click();
  await expect(card).toHaveAttribute('data-status', 'paused');
  // The record on disk and the checkpoint pointer agree on the step (the record is written second).
  const stepsOnDisk = async () => {
    const record = (await idbValue(page, 'whetstone-runs', 'runs', runId)) as
      | { checkpointStep?: number }
      | undefined;
    const pointer = (await idbValue(page, 'whetstone-checkpoints', 'checkpoints', `run:${runId}`)) as
      | { step: number }
      | undefined;
    return { record: record?.checkpointStep ?? 0, pointer: pointer?.step ?? -1 };
  };
  await expect
    .poll(
      async () => {
        const { record, pointer } = await stepsOnDisk();
        return record === pointer && record > 0;
      },
      { timeout: 30_000 },
    )
    .toBe(true);
  const checkpointStep = (await stepsOnDisk()).record;
  expect(checkpointStep % 4).toBe(0);
  expect(checkpointStep).toBeLessThan(16);
  const before = (await recorded(page)).flatMap((e) =>
    e.kind === 'progress' && e.runId === runId && e.progress ? [e.progress] : [],
  );
  const elapsedAtCheckpoint = before.find((p) => p.step === checkpointStep)?.elapsedMs ?? Number.NaN;
  expect(elapsedAtCheckpoint).toBeGreaterThan(0);
  await snap(page, testInfo, 'checkpoint-before-reload');

  // Closing mid-run asks first; the person leaves anyway.
  page.on('dialog', (dialog) => void dialog.accept());
  await page.reload();
  await expect(page.getByTestId('run-card')).toHaveCount(0);
  const interrupted = page.locator(`[data-testid="history-interrupted"][data-run-id="${runId}"]`);
  await expect(interrupted).toContainText('interrupted');
  const resume = interrupted.getByTestId('history-resume');
  await expect(resume).toHaveText(`Resume from step ${checkpointStep}`);
  await expect(page.getByTestId('history-chart').getByTestId(`curve-${runId}`)).toHaveAttribute(
    'data-point-count',
    String(checkpointStep),
  );
  await snap(page, testInfo, 'checkpoint-interrupted-after-reload');

  await resume.click();
  const resumed = page.locator(`[data-testid="run-card"][data-run-id="${runId}"]`);
  await expect(resumed).toHaveCount(1);
  await expect(resumed).toHaveAttribute('data-status', 'finished', { timeout: 240_000 });
  await expect(resumed.getByTestId('metric-step')).toContainText('16 / 16');
  const curve = page.getByTestId('live-chart').getByTestId(`curve-${runId}`);
  await expect(curve).toHaveAttribute('data-point-count', '16');

  // The worker trained only the steps after the checkpoint, on a time axis that went on from it.
  const after = (await recorded(page)).flatMap((e) =>
    e.kind === 'progress' && e.runId === runId && e.progress ? [e.progress] : [],
  );
  expect(after.map((p) => p.step)).toEqual(
    Array.from({ length: 16 - checkpointStep }, (_, i) => checkpointStep + 1 + i),
  );
  expect(after[0]?.elapsedMs).toBeGreaterThan(elapsedAtCheckpoint);
  // Finished: the checkpoint has no use left and is gone from storage.
  await expect
    .poll(() => idbValue(page, 'whetstone-checkpoints', 'checkpoints', `run:${runId}`), { timeout: 30_000 })
    .toBeUndefined();
  await snap(page, testInfo, 'checkpoint-resumed-finished');
});
