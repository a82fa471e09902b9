/**
 * The studio, end to end, in Chromium with software WebGPU: a person pastes or drops a dataset, starts
 * "SFT vs LoRA" on the built-in model, watches both runs train while the page stays responsive,
 * downloads the results and finds the runs again after a reload. Every number checked on screen is
 * compared with what the training worker itself sent (recorded from the page's Worker), so nothing
 * shown can be hard-coded. Screenshots are attached to each test.
 */
import { readFileSync } from 'node:fs';
import { expect, type Locator, type Page, type TestInfo, test } from '@playwright/test';
import { readTar } from '../src/ui/download/tar';

interface RecordedProgress {
  kind: 'progress';
  runId: string;
  progress: { step: number; loss: number };
}

declare global {
  interface Window {
    /** Progress and eval messages as the training worker sent them, before the app saw them. */
    __workerEvents: { kind: string; runId?: string }[];
    /** Main-thread tasks longer than 50 ms (the Long Tasks API), in ms. */
    __longTasks: number[];
  }
}

/** Records every worker message and every long main-thread task, before any app script runs. */
async function instrument(page: Page) {
  await page.addInitScript(() => {
    window.__workerEvents = [];
    window.__longTasks = [];
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        this.addEventListener('message', (event: MessageEvent<{ kind: string; runId?: string }>) => {
          if (event.data.kind === 'progress' || event.data.kind === 'eval')
            window.__workerEvents.push(event.data);
        });
      }
    };
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

/**
 * The dev server finds the dependencies only the training worker imports (the tokenizer and template
 * packages) when the worker first loads, and may then reload the page to re-bundle them. Loading the
 * worker once before the test proper keeps that reload out of the test. (Listing those packages in
 * vite.config.ts `optimizeDeps.include`, as vitest.config.ts does, makes this a no-op.)
 */
async function loadWorkerOnce(page: Page) {
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.goto('/');
    try {
      const reply = await page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            const worker = new Worker(new URL('/src/train/worker/training-worker.ts', location.href), {
              type: 'module',
            });
            worker.onmessage = (event: MessageEvent<{ kind: string }>) => {
              worker.terminate();
              resolve(event.data.kind);
            };
            worker.onerror = (event) => resolve(`error: ${event.message}`);
            worker.postMessage({ kind: 'probe', id: 1 });
          }),
      );
      expect(reply).toBe('probe-result');
      await page.waitForLoadState('networkidle');
      return;
    } catch (error) {
      // The page was reloaded under the evaluation: try again on the re-bundled dependencies.
      if (!String(error).includes('context was destroyed')) throw error;
    }
  }
}

async function snap(page: Page, testInfo: TestInfo, name: string) {
  const body = await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
  await testInfo.attach(name, { body, contentType: 'image/png' });
}

const sentences = [
  'The quick brown fox jumps over the lazy dog.',
  'A whetstone sharpens a blade with slow, even strokes.',
  'Small models learn quickly when the text repeats itself.',
  'Keep the stone wet and the angle low.',
  'Ten strokes on one side, then ten on the other.',
  'Watch the validation loss to know when to stop.',
];

/** The last loss the worker reported for a run. */
async function workerFinalLoss(page: Page, runId: string): Promise<number> {
  const events = (await page.evaluate(() => window.__workerEvents)) as RecordedProgress[];
  const mine = events.filter((e) => e.kind === 'progress' && e.runId === runId);
  expect(mine.length).toBeGreaterThan(0);
  return (mine[mine.length - 1] as RecordedProgress).progress.loss;
}

async function runIds(cards: Locator): Promise<string[]> {
  const ids: string[] = [];
  for (const card of await cards.all()) ids.push((await card.getAttribute('data-run-id')) as string);
  return ids;
}

/** The safetensors header (8-byte little-endian length, then JSON). */
function safetensorsHeader(bytes: Uint8Array): Record<string, unknown> {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
}

test('SFT vs LoRA trains live, stays responsive, downloads, and is kept across a reload', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await instrument(page);
  await loadWorkerOnce(page);
  await page.goto('/');
  await expect(page.getByTestId('adapter-panel')).toBeVisible();

  await page.getByTestId('dataset-text').fill(sentences.join('\n'));
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', String(sentences.length));
  await expect(page.getByTestId('preview-row').first()).toContainText(sentences[0] as string);
  await page.getByTestId('setting-steps').fill('3');
  await expect(page.getByTestId('model-picker')).toHaveValue('builtin-tiny-llama');

  await page.getByTestId('start-compare').click();
  const cards = page.getByTestId('run-card');
  await expect(cards).toHaveCount(2);
  await expect(cards.nth(0).getByRole('heading')).toHaveText('Full SFT');
  await expect(cards.nth(1).getByRole('heading')).toHaveText('LoRA r8');
  const [sftId, loraId] = (await runIds(cards)) as [string, string];

  // While the runs train, typing into a field answers at once: the training is in the worker. (On
  // SwiftShader three steps take seconds, so the runs are still training when this types.)
  const active = page.locator('[data-testid="run-card"][data-status="running"]');
  await expect(active).not.toHaveCount(0, { timeout: 90_000 });
  const alpha = page.getByTestId('setting-loraAlpha');
  await alpha.click();
  const typedAt = Date.now();
  await alpha.press('End');
  await alpha.pressSequentially('0');
  await expect(alpha).toHaveValue('160', { timeout: 2_000 });
  const typingMs = Date.now() - typedAt;
  const stillTraining = await active.count();
  testInfo.annotations.push({
    type: 'typing',
    description: `${typingMs} ms with ${stillTraining} runs active`,
  });
  expect(typingMs).toBeLessThan(1_000);
  await expect(page.locator('[data-testid^="curve-"]:not([data-point-count="0"])')).not.toHaveCount(0, {
    timeout: 90_000,
  });
  await snap(page, testInfo, 'studio-training');

  await expect(page.locator('[data-testid="run-card"][data-status="finished"]')).toHaveCount(2, {
    timeout: 120_000,
  });
  const longTasks = await page.evaluate(() => window.__longTasks);
  testInfo.annotations.push({ type: 'long tasks', description: JSON.stringify(longTasks.map(Math.round)) });
  expect(Math.max(0, ...longTasks)).toBeLessThan(200);

  const chart = page.getByTestId('live-chart');
  for (const id of [sftId, loraId]) {
    const curve = chart.getByTestId(`curve-${id}`);
    await expect(curve).toHaveAttribute('data-point-count', '3');
    expect((await curve.getAttribute('d'))?.match(/[ML]/g)).toHaveLength(3);
    await expect(chart.locator(`[data-testid="eval-point"][data-run-id="${id}"]`)).not.toHaveCount(0);

    const card = page.locator(`[data-testid="run-card"][data-run-id="${id}"]`);
    await expect(card.getByTestId('run-progress')).toHaveAttribute('value', '3');
    await expect(card.getByTestId('metric-step')).toContainText('3 / 3');
    const lossRow = card.getByTestId('metric-loss');
    const shownLoss = Number(await lossRow.getAttribute('data-loss'));
    const sentLoss = await workerFinalLoss(page, id);
    expect(Number.isFinite(shownLoss)).toBe(true);
    expect(shownLoss).toBe(sentLoss);
    await expect(lossRow.locator('td')).toHaveText(sentLoss.toFixed(4));
    expect(Number(await curve.getAttribute('data-last-loss'))).toBe(sentLoss);
    await expect(card.getByTestId('metric-trainable')).toContainText('%');
    await expect(card.getByTestId('metric-peak-gpu-bytes')).toContainText(/\d+(\.\d\d)? [KMG]?i?B/);
    await expect(card.getByTestId('download-run')).toBeVisible();
  }
  const trainable = async (id: string) =>
    Number(
      await page
        .locator(`[data-testid="run-card"][data-run-id="${id}"] [data-testid="metric-trainable"] data`)
        .getAttribute('value'),
    );
  expect(await trainable(loraId)).toBeLessThan(await trainable(sftId));

  await page.getByRole('radio', { name: 'Wall-clock time' }).first().check();
  await expect(chart.locator('svg')).toHaveAttribute('data-x-axis', 'time');
  await page.getByRole('checkbox', { name: 'Log scale' }).first().check();
  await expect(chart.locator('svg')).toHaveAttribute('data-log-scale', 'true');
  await expect(chart.getByTestId(`curve-${loraId}`)).toHaveAttribute('d', /^M[\d.]+,[\d.]+L/);
  await snap(page, testInfo, 'studio-finished');

  // Downloads: each run's files in one tar; the LoRA one is a PEFT adapter folder.
  const download = async (id: string) => {
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(`[data-testid="run-card"][data-run-id="${id}"]`).getByTestId('download-run').click(),
    ]);
    const path = testInfo.outputPath(file.suggestedFilename());
    await file.saveAs(path);
    expect(file.suggestedFilename()).toMatch(/\.tar$/);
    return Object.fromEntries(
      readTar(new Uint8Array(readFileSync(path))).map((e) => [e.path.split('/')[1], e.data]),
    );
  };
  const adapter = await download(loraId);
  expect(Object.keys(adapter).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  const config = JSON.parse(new TextDecoder().decode(adapter['adapter_config.json']));
  expect(config).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16 });
  expect([...config.target_modules].sort()).toEqual(['q_proj', 'v_proj']);
  const keys = Object.keys(safetensorsHeader(adapter['adapter_model.safetensors'] as Uint8Array)).filter(
    (k) => k !== '__metadata__',
  );
  expect(keys.length).toBeGreaterThan(0);
  for (const key of keys) expect(key).toMatch(/^base_model\.model\..+\.(q_proj|v_proj)\.lora_[AB]\.weight$/);
  const model = await download(sftId);
  expect(Object.keys(model)).toEqual(expect.arrayContaining(['config.json', 'model.safetensors']));

  // After a reload the comparison is in the history, curves and final losses as measured.
  const finalLosses = {
    [sftId]: await workerFinalLoss(page, sftId),
    [loraId]: await workerFinalLoss(page, loraId),
  };
  await page.reload();
  await expect(page.getByTestId('run-card')).toHaveCount(0);
  const entry = page.getByTestId('history-entry');
  await expect(entry).toHaveCount(1);
  await expect(entry.getByRole('heading')).toContainText('Full SFT vs LoRA r8');
  for (const id of [sftId, loraId]) {
    await expect(entry.getByTestId(`curve-${id}`)).toHaveAttribute('data-point-count', '3');
    await expect(
      entry.locator(`[data-testid="summary-row"][data-run-id="${id}"] [data-testid="summary-loss"]`),
    ).toHaveAttribute('data-loss', String(finalLosses[id]));
  }
  await snap(page, testInfo, 'studio-history-after-reload');
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
  const dataTransfer = await page.evaluateHandle((content) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([content], 'dropped.jsonl', { type: 'application/jsonl' }));
    return transfer;
  }, lines.join('\n'));
  const zone = page.getByTestId('drop-zone');
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', '3');
  await expect(page.getByTestId('dataset-count')).toContainText('dropped.jsonl');
  await expect(page.getByTestId('preview-row')).toHaveCount(3);
  await expect(page.getByTestId('preview-row').nth(1)).toContainText('dropped two');
  await expect(text).toHaveValue(lines.join('\n'));
  await snap(page, testInfo, 'dataset-dropped');
});

test("a run the worker refuses shows the worker's error next to the run", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  await page.goto('/');
  await page.getByTestId('dataset-text').fill(sentences.join('\n'));
  // A batch this large needs logits far beyond any GPU's per-buffer limit: the engine refuses it.
  await page.getByTestId('setting-batchSize').fill('1000000');
  await page.getByRole('radio', { name: /Full SFT/ }).check();
  await page.getByTestId('start-single').click();
  const card = page.getByTestId('run-card');
  await expect(card).toHaveAttribute('data-status', 'failed', { timeout: 90_000 });
  await expect(card.getByTestId('run-error-name')).toHaveText('ModelTooLargeError');
  await expect(card.getByTestId('run-error-message')).toContainText('lower the batch size');
  await expect(page.getByTestId('live-chart')).toContainText('No steps were taken.');
  await snap(page, testInfo, 'run-refused');
});
