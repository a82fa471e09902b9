/**
 * Text classification in the studio, end to end (issue 8): an MRPC-style TSV dropped on the page shows
 * its label balance (measured by the dataset worker over every row), the built-in tiny BERT trains full
 * fine-tuning and LoRA side by side ("SFT vs LoRA") as classification runs, both report validation
 * accuracy and F1 (the chart, the run cards with their confusion matrices, the summary table), and the
 * playground classifies one sentence pair with both runs, each answer's class probabilities summing to 1.
 * The task is trivially learnable: the label says whether the first sentence names an animal.
 */
import { expect, test } from '@playwright/test';
import {
  dropMrpcStyleTsv,
  fillRunSettings,
  openStudio,
  pickModel,
  recordedWorkerEvents,
  runIds,
  snap,
  tinyBertClassifierSettings,
} from './studio-helpers';

test('a dropped sentence-pair TSV trains full fine-tuning and LoRA classifiers, scored and compared', async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  await openStudio(page);
  await pickModel(page, 'builtin-tiny-bert');
  await expect(page.getByTestId('classifier-note')).toBeVisible();
  // The encoder's memory plan (an estimate), which says encoders have no gradient checkpointing.
  await expect(page.getByTestId('memory-plan')).toHaveAttribute('data-fits', 'true');
  await expect(page.getByTestId('encoder-plan-note')).toContainText('no gradient checkpointing');

  await dropMrpcStyleTsv(page);
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', '40');

  // The label balance, counted over all 40 rows.
  const balance = page.getByTestId('label-balance');
  await expect(balance).toHaveAttribute('data-total', '40');
  const negative = balance.locator('[data-testid="label-balance-row"][data-label="0"]');
  const positive = balance.locator('[data-testid="label-balance-row"][data-label="1"]');
  await expect(negative).toHaveAttribute('data-count', '16');
  await expect(negative.getByTestId('label-share')).toHaveText('40%');
  await expect(positive).toHaveAttribute('data-count', '24');
  await expect(positive.getByTestId('label-share')).toHaveText('60%');

  // 10 updates, scored every 5, on a tiny budget: the encoder's plan does not fit, and start refuses the
  // runs as it refuses a decoder's.
  await fillRunSettings(page, {
    steps: 10,
    ...tinyBertClassifierSettings,
    evalEvery: 5,
    memoryBudget: 0.0001,
  });
  await expect(page.getByTestId('plan-fit')).toHaveText('does not fit ✗');
  await page.getByTestId('start-compare').click();
  await expect(page.getByTestId('setup-problem')).toContainText('will not fit, so it was not started');
  await expect(page.getByTestId('run-card')).toHaveCount(0);
  await fillRunSettings(page, { memoryBudget: 4 });
  await page.getByTestId('start-compare').click();
  const cards = page.getByTestId('run-card');
  await expect(cards).toHaveCount(2);
  await expect(cards.nth(0).locator('h3')).toHaveText('Full fine-tuning');
  await expect(cards.nth(1).locator('h3')).toHaveText('LoRA r8');
  const ids = await runIds(cards);
  for (const card of await cards.all())
    await expect(card).toHaveAttribute('data-status', 'finished', { timeout: 150_000 });

  // Accuracy and F1 for both: on the chart's legend, on each card (with its confusion matrix), in the table.
  const chart = page.getByTestId('live-scores-chart');
  await expect(chart).toBeVisible();
  await expect(chart.locator('canvas').first()).toBeVisible();
  await expect(chart).toContainText('Validation accuracy and F1');
  const evals = (await recordedWorkerEvents(page)).filter((e) => e.kind === 'eval');
  for (const [i, id] of ids.entries()) {
    const mine = evals.filter((e) => e.runId === id);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    const last = mine.at(-1)?.classification;
    if (!last) throw new Error(`run ${id} sent no classification scores`);
    // The worker's accuracy is its own confusion matrix's diagonal share, over the 4 held-out rows.
    const total = last.confusion.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(4);
    expect(last.accuracy).toBe(last.confusion.reduce((n, row, k) => n + (row[k] as number), 0) / total);
    await expect(chart.getByTestId(`scores-${id}`)).toHaveAttribute('data-accuracy', String(last.accuracy));
    await expect(chart.getByTestId(`scores-${id}`)).toHaveAttribute('data-f1', String(last.f1));
    const card = cards.nth(i);
    const shown = card.getByTestId('classification-scores');
    await expect(shown).toHaveAttribute('data-accuracy', String(last.accuracy));
    await expect(shown).toHaveAttribute('data-f1', String(last.f1));
    await expect(card.getByTestId('metric-accuracy')).toContainText(`${(last.accuracy * 100).toFixed(1)}%`);
    await expect(card.getByTestId('confusion-cell')).toHaveText(last.confusion.flat().map(String));
    const row = page.locator(`[data-testid="summary-row"][data-run-id="${id}"]`);
    await expect(row.getByTestId('summary-accuracy')).toHaveAttribute('data-accuracy', String(last.accuracy));
    await expect(row.getByTestId('summary-f1')).toHaveAttribute('data-f1', String(last.f1));
  }
  await snap(page, testInfo, 'classification-compared');

  // The playground classifies one pair with both runs.
  await page.getByTestId('tab-playground').click();
  await page.getByTestId('classify-text').fill('The dog sat .');
  await page.getByTestId('classify-pair').fill('On the mat !');
  await page.getByTestId('classify').click();
  const columns = page.getByTestId('classify-column');
  await expect(columns).toHaveCount(2);
  for (const [i, id] of ids.entries()) {
    const column = columns.nth(i);
    await expect(column).toHaveAttribute('data-key', id);
    await expect(column).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    const bars = column.getByTestId('class-probability');
    await expect(bars).toHaveCount(2);
    const probabilities = await Promise.all(
      (await bars.all()).map(async (bar) => Number(await bar.getAttribute('data-probability'))),
    );
    for (const p of probabilities) expect(p).toBeGreaterThanOrEqual(0);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    await expect(column.getByTestId('classify-stats')).toContainText('in the worker');
  }
  await snap(page, testInfo, 'classification-playground');

  // The LoRA run's kept adapter, scored again on its run's split, gets the run's own last accuracy.
  const loraId = ids[1] as string;
  const loraLast = evals.filter((e) => e.runId === loraId).at(-1)?.classification;
  if (!loraLast) throw new Error('the LoRA run sent no classification scores');
  await page.getByTestId('tab-adapters').click();
  const kept = page.locator(`[data-testid="adapter-entry"][data-run-id="${loraId}"]`);
  await kept.getByTestId('evaluate-run').selectOption(loraId);
  await kept.getByTestId('evaluate-adapter').click();
  await expect(kept.getByTestId('evaluate-result')).toContainText('accuracy', { timeout: 60_000 });
  await page.getByTestId('tab-studio').click();
  const row = page.locator(`[data-testid="evaluation-row"][data-run-id="${loraId}"]`);
  const accuracy = String(loraLast.accuracy);
  await expect(row.getByTestId('evaluation-scores')).toHaveAttribute('data-accuracy', accuracy);
  await expect(row.getByTestId('evaluation-run-scores')).toHaveAttribute('data-accuracy', accuracy);
});
