/**
 * The studio's edges, end to end: without WebGPU the page explains where it works and the rest opens; a
 * malformed JSONL row is named by its line and a dropped file is read; a run that will not fit is refused with
 * the memory plan's reason and what to change; a run at a rate that overfits stops early and says which
 * weights it keeps. Screenshots are attached to each test.
 */
import { expect, test } from '@playwright/test';
import { dropDatasetFile, fillRunSettings, pasteDataset, snap, startLoraRun } from './studio-helpers';

test('without WebGPU the page explains where it works, and the rest still opens', async ({
  page,
}, testInfo) => {
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
  });
  await page.goto('/');
  const error = page.getByTestId('webgpu-error');
  await expect(error).toBeVisible();
  await expect(error.getByRole('heading', { level: 2 })).toHaveText('WebGPU is not available');
  await expect(page.getByTestId('webgpu-browsers')).toContainText('Chrome');
  await expect(page.getByTestId('start-compare')).toBeDisabled();
  // The tabs work from the keyboard: arrows move between them.
  await page.getByTestId('tab-studio').focus();
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('tab-adapters')).toBeFocused();
  await expect(page.getByTestId('tab-adapters')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('adapter-library')).toBeVisible();
  await expect(page.getByTestId('studio')).toBeHidden();
  await snap(page, testInfo, 'no-webgpu');
});

test('a malformed JSONL row is named by its line; a dropped file is read and previewed', async ({
  page,
}, testInfo) => {
  await page.goto('/');
  const text = page.getByTestId('dataset-text');
  await text.fill('{"text": "first"}\n{"text": "second"}\n{"text": third}\n{"text": "fourth"}');
  const error = page.getByTestId('dataset-error');
  await expect(error).toHaveAttribute('data-line', '3');
  await expect(error).toHaveText('Line 3: not valid JSON: {"text": third}');
  await page.getByTestId('start-compare').click();
  await expect(page.getByTestId('setup-problem')).toHaveText('Fix line 3 of the dataset first.');
  await expect(page.getByTestId('run-card')).toHaveCount(0);
  await expect(page.getByTestId('dataset-count')).toHaveCount(0);
  await snap(page, testInfo, 'dataset-malformed-line');

  // A real drop event carrying a file, as a browser makes one.
  const lines = ['{"text": "dropped one"}', '{"text": "dropped two"}', '{"text": "dropped three"}'];
  await dropDatasetFile(page, 'dropped.jsonl', lines.join('\n'));
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', '3');
  await expect(page.getByTestId('dataset-count')).toContainText('dropped.jsonl');
  await expect(page.getByTestId('preview-row')).toHaveCount(3);
  await expect(page.getByTestId('preview-row').nth(1)).toContainText('dropped two');
  // A dropped file goes to the library, not into the paste box.
  await expect(page.getByTestId('library-entry')).toHaveCount(1);
  await snap(page, testInfo, 'dataset-dropped');
});

test('a run that will not fit is refused before it starts, with what to change', async ({
  page,
}, testInfo) => {
  await page.goto('/');
  await pasteDataset(page);
  // A batch this large needs logits far beyond any GPU's per-buffer limit: the memory plan refuses it.
  await fillRunSettings(page, { batchSize: 1000000 });
  await page.getByRole('radio', { name: /Full SFT/ }).check();
  await expect(page.getByTestId('plan-fit')).toHaveText('does not fit ✗');
  await page.getByTestId('start-single').click();
  const problem = page.getByTestId('setup-problem');
  await expect(problem).toContainText('will not fit, so it was not started');
  await expect(problem).toContainText('lower the batch size (1000000 now)');
  await expect(page.getByTestId('run-card')).toHaveCount(0);
  await snap(page, testInfo, 'run-refused');
});

test('early stopping ends a run that stopped improving, on its best weights', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  await page.goto('/');
  await pasteDataset(page);
  await fillRunSettings(page, { steps: 40, evalEvery: 1, lr: 0.05 });
  await page.getByTestId('more-training-settings').locator('summary').click();
  await page.getByTestId('setting-earlyStoppingPatience').fill('2');
  const { card } = await startLoraRun(page);
  await expect(card).toHaveAttribute('data-status', 'finished', { timeout: 200_000 });
  const note = card.getByTestId('early-stopping');
  await expect(note).toHaveAttribute('data-stopped', 'true');
  await expect(note).toContainText(
    /Stopped early at step \d+: 2 evaluations without a lower loss\. The run keeps step \d+'s weights/,
  );
  const stoppedAt = Number((await card.getByTestId('run-progress').getAttribute('value')) ?? '0');
  expect(stoppedAt).toBeLessThan(40);
  await snap(page, testInfo, 'stopped-early');
});
