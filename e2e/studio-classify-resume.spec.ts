/**
 * A classification run's checkpoints outlive the tab, as a language-model run's do: a LoRA run of the
 * built-in tiny BERT on a dropped MRPC-style TSV checkpoints as it trains (to IndexedDB, with its spec
 * and the dataset file), the tab reloads mid-run, the history offers "Resume from step N", and resuming
 * trains only the remaining steps to the end in the worker, reporting validation accuracy at the end.
 */
import { expect, test } from '@playwright/test';
import {
  checkpointStepsOnDisk,
  dropMrpcStyleTsv,
  fillRunSettings,
  openStudio,
  pauseAtFirstCheckpoint,
  pickModel,
  recordedWorkerEvents,
  runCard,
  snap,
  startLoraRun,
  tinyBertClassifierSettings,
  workerProgress,
} from './studio-helpers';

test('a classification run checkpointed before a reload resumes from its step and finishes', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await openStudio(page);
  await pickModel(page, 'builtin-tiny-bert');
  await dropMrpcStyleTsv(page);
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', '40');
  // 40 updates: a LoRA checkpoint every 10 (a quarter of the run).
  await fillRunSettings(page, { steps: 40, ...tinyBertClassifierSettings, evalEvery: 0 });
  const { card, runId } = await startLoraRun(page);

  await pauseAtFirstCheckpoint(page, card, runId, 120_000);
  const checkpointStep = Math.max(
    ...(await recordedWorkerEvents(page)).flatMap((e) =>
      e.kind === 'checkpoint' && e.runId === runId ? [e.step ?? 0] : [],
    ),
  );
  expect(checkpointStep % 10).toBe(0);
  expect(checkpointStep).toBeLessThan(40);

  // Both the checkpoint and the run's record name that step on disk before the tab goes.
  const stepsOnDisk = async () => {
    const { record, pointer } = await checkpointStepsOnDisk(page, runId);
    return [record, pointer];
  };
  await expect.poll(stepsOnDisk, { timeout: 30_000 }).toEqual([checkpointStep, checkpointStep]);

  page.on('dialog', (dialog) => void dialog.accept());
  await page.reload();
  const interrupted = page.locator(`[data-testid="history-interrupted"][data-run-id="${runId}"]`);
  await expect(interrupted.getByTestId('history-resume')).toHaveText(`Resume from step ${checkpointStep}`);
  await snap(page, testInfo, 'classifier-interrupted-after-reload');

  await interrupted.getByTestId('history-resume').click();
  const resumed = runCard(page, runId);
  await expect(resumed).toHaveAttribute('data-status', 'finished', { timeout: 180_000 });
  await expect(resumed.getByTestId('metric-step')).toContainText('40 / 40');
  // The worker trained only the updates after the checkpoint.
  const after = (await workerProgress(page, runId)).map((p) => p.step);
  expect(after).toEqual(Array.from({ length: 40 - checkpointStep }, (_, i) => checkpointStep + 1 + i));
  const evals = (await recordedWorkerEvents(page)).filter((e) => e.kind === 'eval' && e.runId === runId);
  expect(evals.map((e) => e.step)).toContain(40);
  await snap(page, testInfo, 'classifier-resumed-finished');
});
