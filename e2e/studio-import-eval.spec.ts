/**
 * An adapter trained elsewhere, brought back and scored on a run's validation split (issue #9): a short
 * LoRA run trains in the studio, its PEFT folder is downloaded and imported again under another name (as
 * the folder of a TRL + PEFT job would be), and the imported adapter is evaluated on the run's split.
 * The import and the evaluation happen after a reload, as they would days later: the run is then only in
 * the history, and its split is rebuilt from the spec kept when it started. Being the run's own weights,
 * the adapter must score the run's own final validation loss, as the worker measured it (recorded from
 * the page's Worker), to the precision the compare view shows.
 */
import { copyFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import {
  fillRunSettings,
  openStudio,
  pasteDataset,
  recordedWorkerEvents,
  sentences,
  snap,
  startLoraRun,
} from './studio-helpers';

test('an imported PEFT adapter scores its run’s final validation loss on the run’s split', async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  await openStudio(page);
  await pasteDataset(page);
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', String(sentences.length));
  await fillRunSettings(page, { steps: 2, evalEvery: 0 });
  const { card, runId } = await startLoraRun(page);
  await expect(card).toHaveAttribute('data-status', 'finished', { timeout: 120_000 });

  // The run's own final validation loss, as the worker sent it.
  const evals = (await recordedWorkerEvents(page)).filter((e) => e.kind === 'eval' && e.runId === runId);
  expect(evals.length).toBeGreaterThan(0);
  const runLoss = (evals[evals.length - 1] as { loss: number }).loss;
  expect(Number.isFinite(runLoss)).toBe(true);

  // Download the kept adapter's PEFT folder and import it again as another job's folder.
  await page.getByTestId('tab-adapters').click();
  const kept = page.locator(`[data-testid="adapter-entry"][data-run-id="${runId}"]`);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    kept.getByTestId('download-adapter-zip').click(),
  ]);
  const downloaded = testInfo.outputPath('kept.zip');
  await download.saveAs(downloaded);
  const jobFolder = testInfo.outputPath('trl-job.zip');
  copyFileSync(downloaded, jobFolder);

  // A new session: the run is in the history only.
  await page.reload();
  await expect(page.getByTestId('history-entry')).toHaveCount(1);
  await expect(page.getByTestId('run-card')).toHaveCount(0);
  await page.getByTestId('tab-adapters').click();
  await page.getByTestId('import-adapter-zip').setInputFiles(jobFolder);
  const imported = page.locator('[data-testid="adapter-entry"][data-run-id=""]');
  await expect(imported).toHaveCount(1);
  await expect(imported.getByTestId('adapter-name')).toHaveValue('trl-job');
  const adapterId = (await imported.getAttribute('data-adapter-id')) as string;

  await expect(imported.getByTestId('evaluate-run')).toHaveValue(runId);
  await imported.getByTestId('evaluate-adapter').click();
  await expect(imported.getByTestId('evaluate-result')).toBeVisible({ timeout: 60_000 });

  // The compare view sets it beside the run: same loss as the run's own, to the shown precision.
  await page.getByTestId('tab-studio').click();
  const row = page.locator(`[data-testid="evaluation-row"][data-adapter-id="${adapterId}"]`);
  await expect(row).toHaveAttribute('data-run-id', runId);
  await expect(row.getByRole('rowheader')).toHaveText('imported: trl-job');
  await expect(row.getByTestId('evaluation-loss')).toHaveText(runLoss.toFixed(4));
  await expect(row.getByTestId('evaluation-run-loss')).toHaveText(runLoss.toFixed(4));
  const measured = Number(await row.getByTestId('evaluation-loss').getAttribute('data-loss'));
  expect(Math.abs(measured - runLoss)).toBeLessThan(1e-4);
  // And the chart marks it at the run's final step, next to the run's own curve.
  const chart = page.getByTestId(`evaluation-chart-${runId}`);
  await expect(chart.getByTestId(`curve-${runId}`)).toHaveAttribute('data-eval-count', String(evals.length));
  await expect(chart.locator('[data-testid^="curve-evaluation-"]')).toContainText('imported: trl-job');
  await snap(page, testInfo, 'imported-adapter-evaluation');
});
