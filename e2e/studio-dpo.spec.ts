/**
 * DPO in the studio, end to end: a person takes the sample preference pairs (prompt, chosen, rejected:
 * the JSONL file the app ships, read as a dropped file is), the
 * run setup offers the objective with DPO chosen and β at TRL's 0.1, the tiny Llama trains LoRA DPO for
 * a few steps, and the run is named for it, starts at the DPO loss of log 2 (the adapter starts as the
 * base model, its own reference), and charts its reward accuracy and margin from the worker's numbers.
 */
import { expect, test } from '@playwright/test';
import {
  fillRunSettings,
  openStudio,
  recordedWorkerEvents,
  snap,
  startLoraRun,
  workerProgress,
} from './studio-helpers';

/** The sample's pairs (src/ui/screens/dataset/sample-preferences.ts). */
const pairCount = 16;

test('the sample preference pairs train LoRA with DPO, with its rewards charted', async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  await openStudio(page);
  await page.getByTestId('sample-preferences').click();
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', String(pairCount));

  // The objective shows for a preference dataset, DPO chosen, with β at TRL's default.
  const objective = page.getByTestId('objective');
  await expect(objective).toContainText(`${pairCount} preference pairs`);
  await expect(page.getByTestId('objective-dpo')).toBeChecked();
  await expect(page.getByTestId('setting-dpoBeta')).toHaveValue('0.1');
  await expect(page.getByTestId('setting-dpoLr')).toBeVisible();
  await expect(page.getByTestId('plan-dpo-rows')).toBeVisible();
  // SFT on the chosen responses is one click away, with SFT's own rate; back to DPO for this run.
  await page.getByTestId('objective-sft').check();
  await expect(page.getByTestId('setting-lr')).toBeVisible();
  await expect(page.getByTestId('start-single')).not.toContainText('DPO');
  await page.getByTestId('objective-dpo').check();
  await expect(page.getByTestId('start-single')).toContainText('(DPO)');
  await snap(page, testInfo, 'dpo-setup');

  await fillRunSettings(page, { steps: 4, evalEvery: 2, seqLen: 128 });
  const { card, runId } = await startLoraRun(page);
  await expect(card.getByRole('heading', { level: 3 })).toHaveText('LoRA r8 · DPO');
  await expect(card).toContainText('DPO, β 0.1');
  await expect(card).toHaveAttribute('data-status', 'finished', { timeout: 150_000 });

  // The worker's first loss is the DPO loss of a policy equal to its reference: log 2.
  const steps = await workerProgress(page, runId);
  expect(steps.map((p) => p.step)).toEqual([1, 2, 3, 4]);
  expect(steps[0]?.loss).toBeCloseTo(Math.LN2, 3);
  expect(steps[0]?.preference?.rewardMargin).toBeCloseTo(0, 3);
  const evals = (await recordedWorkerEvents(page)).filter((e) => e.kind === 'eval' && e.runId === runId);
  expect(evals.map((e) => e.step)).toEqual([2, 4]);
  const lastEval = evals.at(-1)?.preference;
  expect(lastEval).toBeDefined();

  // The reward accuracy chart draws what the worker sent: a point per step and per evaluation.
  const chart = page.getByTestId('live-reward-accuracy-chart');
  await expect(chart.locator('canvas')).toHaveCount(1);
  const legend = chart.getByTestId(`rewardAccuracy-${runId}`);
  await expect(legend).toHaveAttribute('data-point-count', '4');
  await expect(legend).toHaveAttribute('data-eval-count', '2');
  await expect(legend).toHaveAttribute('data-last', String(steps[3]?.preference?.rewardAccuracy));
  await expect(legend).toHaveAttribute('data-last-validation', String(lastEval?.rewardAccuracy));
  await expect(page.getByTestId('live-reward-margin-chart').locator('canvas')).toHaveCount(1);
  await expect(card.getByTestId('metric-reward-accuracy')).toHaveAttribute(
    'data-validation',
    String(lastEval?.rewardAccuracy),
  );
  await snap(page, testInfo, 'dpo-trained');
});
