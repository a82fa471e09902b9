/**
 * A classification run's checkpoints outlive the tab, as a language-model run's do: a LoRA run of the
 * built-in tiny BERT on a dropped MRPC-style TSV checkpoints as it trains (to IndexedDB, with its spec
 * and the dataset file), the tab reloads mid-run, the history offers "Resume from step N", and resuming
 * trains only the remaining steps to the end in the worker, reporting validation accuracy at the end.
 */
import { expect, type Page, test } from '@playwright/test';
import { idbValue, instrument, loadWorkerOnce, mrpcStyleTsv, snap } from './studio-helpers';

interface Recorded {
  kind: string;
  runId?: string;
  step?: number;
  progress?: { step: number };
}

const recorded = (page: Page) => page.evaluate(() => window.__workerEvents) as Promise<Recorded[]>;

const tsv = mrpcStyleTsv;

test('a classification run checkpointed before a reload resumes from its step and finishes', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await instrument(page);
  await loadWorkerOnce(page);
  await page.goto('/');
  await page.getByTestId('model-picker').selectOption('builtin-tiny-bert');
  const dataTransfer = await page.evaluateHandle((text) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], 'msr_paraphrase_train.txt', { type: 'text/tab-separated-values' }));
    return transfer;
  }, tsv);
  const zone = page.getByTestId('drop-zone');
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', '40');
  // 40 updates: a LoRA checkpoint every 10 (a quarter of the run).
  await page.getByTestId('setting-steps').fill('40');
  await page.getByTestId('setting-batchSize').fill('8');
  await page.getByTestId('setting-lr').fill('0.01');
  await page.getByTestId('setting-seqLen').fill('24');
  await page.getByTestId('setting-evalEvery').fill('0');
  await page.getByRole('radio', { name: /^LoRA/ }).check();
  await page.getByTestId('start-single').click();
  const card = page.getByTestId('run-card');
  await expect(card).toHaveCount(1);
  const runId = (await card.getAttribute('data-run-id')) as string;

  await expect
    .poll(async () => (await recorded(page)).some((e) => e.kind === 'checkpoint' && e.runId === runId), {
      timeout: 120_000,
    })
    .toBe(true);
  await card.getByTestId('pause-run').click();
  await expect(card).toHaveAttribute('data-status', 'paused');
  const checkpointStep = Math.max(
    ...(await recorded(page)).flatMap((e) =>
      e.kind === 'checkpoint' && e.runId === runId ? [e.step ?? 0] : [],
    ),
  );
  expect(checkpointStep % 10).toBe(0);
  expect(checkpointStep).toBeLessThan(40);

  // Both the checkpoint and the run's record name that step on disk before the tab goes.
  const stepsOnDisk = async () => {
    const record = (await idbValue(page, 'whetstone-runs', 'runs', runId)) as
      | { checkpointStep?: number }
      | undefined;
    const pointer = (await idbValue(page, 'whetstone-checkpoints', 'checkpoints', `run:${runId}`)) as
      | { step: number }
      | undefined;
    return [record?.checkpointStep ?? 0, pointer?.step ?? -1];
  };
  await expect.poll(stepsOnDisk, { timeout: 30_000 }).toEqual([checkpointStep, checkpointStep]);

  page.on('dialog', (dialog) => void dialog.accept());
  await page.reload();
  const interrupted = page.locator(`[data-testid="history-interrupted"][data-run-id="${runId}"]`);
  await expect(interrupted.getByTestId('history-resume')).toHaveText(`Resume from step ${checkpointStep}`);
  await snap(page, testInfo, 'classifier-interrupted-after-reload');

  await interrupted.getByTestId('history-resume').click();
  const resumed = page.locator(`[data-testid="run-card"][data-run-id="${runId}"]`);
  await expect(resumed).toHaveAttribute('data-status', 'finished', { timeout: 180_000 });
  await expect(resumed.getByTestId('metric-step')).toContainText('40 / 40');
  // The worker trained only the updates after the checkpoint.
  const after = (await recorded(page)).flatMap((e) =>
    e.kind === 'progress' && e.runId === runId && e.progress ? [e.progress.step] : [],
  );
  expect(after).toEqual(Array.from({ length: 40 - checkpointStep }, (_, i) => checkpointStep + 1 + i));
  const evals = (await recorded(page)).filter((e) => e.kind === 'eval' && e.runId === runId);
  expect(evals.map((e) => e.step)).toContain(40);
  await snap(page, testInfo, 'classifier-resumed-finished');
});
