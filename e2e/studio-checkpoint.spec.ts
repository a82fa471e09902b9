/**
 * Checkpoints outlive the tab, end to end: a QLoRA run (LoRA on a base quantized to NF4) checkpoints as
 * it trains (to IndexedDB, with its spec, quantization included), the tab reloads mid-run, the history shows the run as interrupted with "Resume from step N",
 * and resuming trains the remaining steps from that checkpoint to the end, its time axis going on from
 * where the checkpoint left it rather than from 0. Screenshots are attached.
 */
import { expect, test } from '@playwright/test';
import {
  checkpointStepsOnDisk,
  fillRunSettings,
  idbValue,
  openStudio,
  pasteDataset,
  pauseAtFirstCheckpoint,
  runCard,
  snap,
  startLoraRun,
  workerProgress,
} from './studio-helpers';

test('a run checkpointed before a reload resumes from its step and finishes', async ({ page }, testInfo) => {
  test.setTimeout(400_000);
  await openStudio(page);
  await pasteDataset(page);
  // 16 steps: a checkpoint every 4 (a quarter of the run).
  await fillRunSettings(page, { steps: 16, evalEvery: 0 });
  await page.getByTestId('setting-quantize-base').check();
  await expect(page.getByTestId('plan-nf4-weights')).toContainText('4-bit NF4');
  const { card, runId } = await startLoraRun(page);
  await expect(card).toContainText('QLoRA r8');
  await expect(card).toContainText('base 4-bit NF4');

  // The first checkpoint arrives; once it is on disk, pause (so the run cannot finish) and reload.
  await pauseAtFirstCheckpoint(page, card, runId, 180_000);
  // The record on disk and the checkpoint pointer agree on the step (the record is written second).
  await expect
    .poll(
      async () => {
        const { record, pointer } = await checkpointStepsOnDisk(page, runId);
        return record === pointer && record > 0;
      },
      { timeout: 30_000 },
    )
    .toBe(true);
  const checkpointStep = (await checkpointStepsOnDisk(page, runId)).record;
  expect(checkpointStep % 4).toBe(0);
  expect(checkpointStep).toBeLessThan(16);
  const before = await workerProgress(page, runId);
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
  const resumed = runCard(page, runId);
  await expect(resumed).toHaveCount(1);
  await expect(resumed).toContainText('QLoRA r8');
  await expect(resumed).toHaveAttribute('data-status', 'finished', { timeout: 240_000 });
  await expect(resumed.getByTestId('metric-step')).toContainText('16 / 16');
  const curve = page.getByTestId('live-chart').getByTestId(`curve-${runId}`);
  await expect(curve).toHaveAttribute('data-point-count', '16');

  // The worker trained only the steps after the checkpoint, on a time axis that went on from it.
  const after = await workerProgress(page, runId);
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
