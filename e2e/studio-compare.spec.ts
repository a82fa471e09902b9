/**
 * The studio, end to end, in Chromium with software WebGPU: a person pastes a dataset, starts "SFT vs
 * LoRA" on the built-in model, watches both runs train while the page stays responsive, pauses and
 * resumes one, tries both in the playground, keeps two of their answers as DPO preference pairs (then
 * chosen in the dataset library, they offer DPO), downloads the LoRA adapter and finds the runs again after
 * a reload. Every number checked on screen is compared with what the training worker itself sent (recorded
 * from the page's Worker), so nothing shown can be hard-coded. Screenshots are attached to each test.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import {
  fillRunSettings,
  libraryFileText,
  medianTabAnswerMs,
  openStudio,
  pasteDataset,
  runCard,
  runIds,
  safetensorsHeader,
  sentences,
  snap,
  tabAnswerMs,
  workerFinalLoss,
} from './studio-helpers';

test('SFT vs LoRA trains live, stays responsive, generates, keeps the adapter, and survives a reload', async ({
  page,
}, testInfo) => {
  test.setTimeout(400_000);
  await openStudio(page);
  await expect(page.getByTestId('adapter-panel')).toBeVisible();

  await pasteDataset(page);
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', String(sentences.length));
  await expect(page.getByTestId('preview-row').first()).toContainText(sentences[0] as string);
  // A high rate, so four steps move the LoRA run's greedy answer away from the base model's; full
  // fine-tuning keeps its own (lower) rate, which its card states.
  await fillRunSettings(page, { steps: 6, evalEvery: 3, lr: 0.05, fullLr: 0.002 });
  await expect(page.getByTestId('model-picker')).toHaveValue('builtin-tiny-llama');

  await page.getByTestId('start-compare').click();
  const cards = page.getByTestId('run-card');
  await expect(cards).toHaveCount(2);
  await expect(cards.nth(0).getByRole('heading')).toHaveText('Full SFT');
  await expect(cards.nth(1).getByRole('heading')).toHaveText('LoRA r8');
  await expect(cards.nth(0)).toContainText('lr 0.002');
  await expect(cards.nth(1)).toContainText('lr 0.05');
  const [sftId, loraId] = (await runIds(cards)) as [string, string];
  const chart = page.getByTestId('live-chart');
  const points = async (id: string) =>
    Number(await chart.getByTestId(`curve-${id}`).getAttribute('data-point-count'));

  // Both curves gain points while the runs train side by side, and another tab answers at once.
  await expect
    .poll(async () => Math.min(await points(sftId), await points(loraId)), { timeout: 120_000 })
    .toBeGreaterThan(0);
  const during = { sft: await points(sftId), lora: await points(loraId) };
  const running = await page.locator('[data-testid="run-card"][data-status="running"]').count();
  const { median, answers } = await medianTabAnswerMs(page, 'playground', 'studio');
  testInfo.annotations.push({
    type: 'tab answer',
    description: `median ${median.toFixed(0)} ms of ${answers.map((a) => a.toFixed(0)).join(', ')} with ${running} runs training`,
  });
  expect(median).toBeLessThan(200);
  await snap(page, testInfo, 'playground-during-training');
  await tabAnswerMs(page, 'studio');
  await expect(page.locator('.loss-chart-plot canvas').first()).toBeVisible();
  await snap(page, testInfo, 'studio-training');

  // Pause LoRA: it takes no step while SFT trains on; resumed, it goes on to the end.
  const loraCard = runCard(page, loraId);
  await loraCard.getByTestId('pause-run').click();
  await expect(loraCard).toHaveAttribute('data-status', 'paused');
  const pausedAt = await points(loraId);
  const sftAtPause = await points(sftId);
  await expect.poll(() => points(sftId), { timeout: 120_000 }).toBeGreaterThan(sftAtPause);
  // A step already under way when the pause arrived may still land; none after it.
  expect(await points(loraId)).toBeLessThanOrEqual(pausedAt + 1);
  const lateSteps = await points(loraId);
  await expect.poll(() => points(sftId), { timeout: 120_000 }).toBeGreaterThan(sftAtPause + 1);
  expect(await points(loraId)).toBe(lateSteps);
  await loraCard.getByTestId('resume-run').click();
  await expect(loraCard).not.toHaveAttribute('data-status', 'paused');

  await expect(page.locator('[data-testid="run-card"][data-status="finished"]')).toHaveCount(2, {
    timeout: 180_000,
  });
  const longTasks = await page.evaluate(() => window.__longTasks);
  testInfo.annotations.push({ type: 'long tasks', description: JSON.stringify(longTasks.map(Math.round)) });
  expect(Math.max(0, ...longTasks)).toBeLessThan(200);

  for (const id of [sftId, loraId]) {
    const curve = chart.getByTestId(`curve-${id}`);
    await expect(curve).toHaveAttribute('data-point-count', '6');
    await expect(curve).toHaveAttribute('data-eval-count', '2');
    const card = runCard(page, id);
    await expect(card.getByTestId('run-progress')).toHaveAttribute('value', '6');
    await expect(card.getByTestId('metric-step')).toContainText('6 / 6');
    const lossRow = card.getByTestId('metric-loss');
    const shownLoss = Number(await lossRow.getAttribute('data-loss'));
    const sentLoss = await workerFinalLoss(page, id);
    expect(Number.isFinite(shownLoss)).toBe(true);
    expect(shownLoss).toBe(sentLoss);
    await expect(lossRow.locator('td')).toHaveText(sentLoss.toFixed(4));
    expect(Number(await curve.getAttribute('data-last-loss'))).toBe(sentLoss);
    await expect(card.getByTestId('metric-trainable')).toContainText('%');
    await expect(card.getByTestId('metric-peak-gpu-bytes')).toContainText(/\d+(\.\d\d)? [KMG]?i?B/);
  }
  expect(during.sft).toBeLessThanOrEqual(6);
  const trainable = async (id: string) =>
    Number(
      await page
        .locator(`[data-testid="run-card"][data-run-id="${id}"] [data-testid="metric-trainable"] data`)
        .getAttribute('value'),
    );
  expect(await trainable(loraId)).toBeLessThan(await trainable(sftId));

  await page.getByRole('radio', { name: 'Wall-clock time' }).first().check();
  await expect(chart).toHaveAttribute('data-x-axis', 'time');
  await page.getByRole('checkbox', { name: 'Log scale' }).first().check();
  await expect(chart).toHaveAttribute('data-log-scale', 'true');
  await expect(chart.locator('canvas')).toBeVisible();
  await snap(page, testInfo, 'studio-finished');

  // The playground: base, SFT and LoRA answer the same prompt, token by token.
  await page.getByTestId('tab-playground').click();
  await page.getByTestId('playground-prompt').fill('The quick brown');
  await page.getByTestId('sampling-maxNewTokens').fill('12');
  await page.getByTestId('generate').click();
  const columns = page.getByTestId('playground-column');
  await expect(columns).toHaveCount(3);
  await expect(page.locator('[data-testid="playground-column"][data-status="done"]')).toHaveCount(3, {
    timeout: 120_000,
  });
  const keys = await columns.evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
  expect(keys).toEqual(['base:builtin-tiny-llama', sftId, loraId]);
  for (const column of await columns.all()) {
    const tokens = Number(await column.getAttribute('data-tokens'));
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThanOrEqual(12);
    await expect(column.getByTestId('playground-stats')).toContainText(`${tokens} tokens`);
  }
  await snap(page, testInfo, 'playground');
  const texts = await columns.evaluateAll((els) =>
    els.map((e) => e.querySelector('[data-testid="playground-text"]')?.textContent ?? ''),
  );
  testInfo.annotations.push({ type: 'playground', description: JSON.stringify(texts) });
  // Training changed what the models say: the trained runs do not answer as the base model does.
  expect(texts[1]).not.toBe(texts[0]);
  expect(texts[2]).not.toBe(texts[0]);
  const loraText = await page
    .locator(`[data-testid="playground-column"][data-key="${loraId}"] [data-testid="playground-text"]`)
    .textContent();

  // Answers marked better and worse are kept as DPO pairs in the library, in the conversational form (the
  // tiny Llama has a chat template); the second pair appends to the same file.
  const column = (key: string) => page.locator(`[data-testid="playground-column"][data-key="${key}"]`);
  const keepPair = async (better: string, worse: string) => {
    await column(better).getByTestId('mark-better').click();
    await column(worse).getByTestId('mark-worse').click();
    await page.getByTestId('keep-pair-button').click();
  };
  const keptPairs = page.getByTestId('kept-pairs');
  await keepPair(loraId, 'base:builtin-tiny-llama');
  await expect(keptPairs).toHaveText(
    '1 pair in playground-preferences.jsonl, in the dataset library: choose it there to train DPO on it.',
  );
  await keepPair(sftId, 'base:builtin-tiny-llama');
  await expect(keptPairs).toHaveAttribute('data-count', '2');
  const turn = (role: string, content?: string) => [{ role, content }];
  const pairRow = (chosen?: string) => ({
    prompt: turn('user', 'The quick brown'),
    chosen: turn('assistant', chosen),
    rejected: turn('assistant', texts[0]),
  });
  const pairsFile = await libraryFileText(page, 'playground-preferences.jsonl');
  expect(
    pairsFile
      ?.trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line)),
  ).toEqual([pairRow(texts[2]), pairRow(texts[1])]);
  await snap(page, testInfo, 'playground-pairs-kept');
  await page.getByTestId('tab-studio').click();
  const pairsEntry = page.locator('[data-testid="library-entry"]', {
    hasText: 'playground-preferences.jsonl',
  });
  // The kept pairs download as the file the library holds.
  const [pairsDownload] = await Promise.all([
    page.waitForEvent('download'),
    pairsEntry.getByTestId('library-download').click(),
  ]);
  expect(pairsDownload.suggestedFilename()).toBe('playground-preferences.jsonl');
  const pairsPath = testInfo.outputPath('playground-preferences.jsonl');
  await pairsDownload.saveAs(pairsPath);
  expect(readFileSync(pairsPath, 'utf8')).toBe(pairsFile);
  await pairsEntry.getByTestId('library-select').click();
  await expect(page.getByTestId('objective')).toContainText('2 preference pairs');
  await expect(page.getByTestId('objective-dpo')).toBeChecked();

  // The LoRA adapter is kept in the library; its zip is a PEFT folder with a model card.
  await page.getByTestId('tab-adapters').click();
  const entry = page.locator(`[data-testid="adapter-entry"][data-run-id="${loraId}"]`);
  await expect(entry).toHaveCount(1);
  await expect(page.locator(`[data-testid="adapter-entry"][data-run-id="${sftId}"]`)).toHaveCount(0);
  const [zipFile] = await Promise.all([
    page.waitForEvent('download'),
    entry.getByTestId('download-adapter-zip').click(),
  ]);
  expect(zipFile.suggestedFilename()).toMatch(/\.zip$/);
  const zipPath = testInfo.outputPath(zipFile.suggestedFilename());
  await zipFile.saveAs(zipPath);
  const adapter = Object.fromEntries(
    Object.entries(unzipSync(new Uint8Array(readFileSync(zipPath)))).map(([path, data]) => [
      path.split('/')[1],
      data,
    ]),
  );
  expect(Object.keys(adapter).sort()).toEqual([
    'README.md',
    'adapter_config.json',
    'adapter_model.safetensors',
  ]);
  const config = JSON.parse(new TextDecoder().decode(adapter['adapter_config.json']));
  expect(config).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16, task_type: 'CAUSAL_LM' });
  expect([...config.target_modules].sort()).toEqual(['q_proj', 'v_proj']);
  const header = safetensorsHeader(adapter['adapter_model.safetensors'] as Uint8Array);
  const keys2 = Object.keys(header).filter((k) => k !== '__metadata__');
  // Two layers × q_proj, v_proj × lora_A, lora_B.
  expect(keys2).toHaveLength(8);
  for (const key of keys2) {
    expect(key).toMatch(
      /^base_model\.model\.model\.layers\.[01]\.self_attn\.(q_proj|v_proj)\.lora_[AB]\.weight$/,
    );
    expect(header[key]).toMatchObject({ dtype: 'F32' });
  }
  expect(new TextDecoder().decode(adapter['README.md'])).toContain('library_name: peft');
  await snap(page, testInfo, 'adapters');

  // After a reload: the comparison is in the history with its curves, and the adapter is still kept.
  const finalLosses = {
    [sftId]: await workerFinalLoss(page, sftId),
    [loraId]: await workerFinalLoss(page, loraId),
  };
  await page.reload();
  await expect(page.getByTestId('run-card')).toHaveCount(0);
  const history = page.getByTestId('history-entry');
  await expect(history).toHaveCount(1);
  await expect(history.getByRole('heading')).toContainText('Full SFT vs LoRA r8');
  for (const id of [sftId, loraId]) {
    await expect(history.getByTestId(`curve-${id}`)).toHaveAttribute('data-point-count', '6');
    await expect(
      history.locator(`[data-testid="summary-row"][data-run-id="${id}"] [data-testid="summary-loss"]`),
    ).toHaveAttribute('data-loss', String(finalLosses[id]));
  }
  await snap(page, testInfo, 'studio-history-after-reload');
  await page.getByTestId('tab-adapters').click();
  const kept = page.locator(`[data-testid="adapter-entry"][data-run-id="${loraId}"]`);
  await expect(kept).toHaveCount(1);
  const adapterId = (await kept.getAttribute('data-adapter-id')) as string;

  // The kept adapter answers in the playground as its run did (greedy decoding, the same weights).
  await page.getByTestId('tab-playground').click();
  await expect(page.getByTestId('kept-pairs')).toHaveAttribute('data-count', '2');
  await page.getByTestId('playground-prompt').fill('The quick brown');
  await page.getByTestId('sampling-maxNewTokens').fill('12');
  await page.locator(`[data-testid="playground-adapter"][data-adapter-id="${adapterId}"]`).check();
  await page.getByTestId('generate').click();
  const keptColumn = page.locator(`[data-testid="playground-column"][data-key="adapter:${adapterId}"]`);
  await expect(keptColumn).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(keptColumn.getByTestId('playground-text')).toHaveText(loraText ?? '');
  await snap(page, testInfo, 'playground-kept-adapter');
});
