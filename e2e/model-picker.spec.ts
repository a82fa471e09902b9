/**
 * The model picker and run setup, end to end: a fake Hugging Face hub (page.route on huggingface.co)
 * serves the project's tiny model, which is picked by repo id and downloads with a byte progress bar;
 * a second, stalled download is cancelled; a local folder is picked through the directory input; the
 * catalogue's estimates and fit marks render; the memory plan follows the settings; and "Run at scale…"
 * downloads a zip holding train.py and the dataset. Nothing here reaches the network.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page, type Route, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { tinyModelFiles } from '../src/train/fixtures/tiny-models';

// Stored in BF16, as hub models are: its memory plan keeps LoRA's frozen matrices 16-bit.
const tiny: Record<string, Uint8Array> = Object.fromEntries(
  Object.entries(tinyModelFiles({ family: 'llama', weightDtype: 'BF16' })).map(([name, value]) => [
    name,
    typeof value === 'string' ? new TextEncoder().encode(value) : value,
  ]),
);

/** What downloadModel fetches (hub.ts): the required and optional files the repo has, and the weights. */
const fetched = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'generation_config.json',
  'chat_template.jinja',
  'model.safetensors',
].filter((name) => name in tiny);
const expectedTotal = fetched.reduce((n, name) => n + (tiny[name] as Uint8Array).byteLength, 0);

const cors = {
  'Access-Control-Allow-Origin': '*',
  // The wildcard does not cover Authorization, which a gated download sends.
  'Access-Control-Allow-Headers': '*, Authorization',
  'Access-Control-Expose-Headers': '*',
};

interface FakeHub {
  requests: string[];
  /** Resolves the stalled weights request of `test/slow`, once the test is done with it. */
  release(): void;
}

/**
 * Serves `test/tiny` (weights delayed a little, so progress can be seen), `test/slow` (weights stall) and
 * `test/gated` (HTTP 401 without the token hf_test, as the hub answers for a gated model).
 */
async function fakeHub(page: Page): Promise<FakeHub> {
  const requests: string[] = [];
  let release = () => {};
  const stalled = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route('https://huggingface.co/**', async (route: Route) => {
    const request = route.request();
    const url = new URL(request.url());
    const path = decodeURIComponent(url.pathname);
    requests.push(`${request.method()} ${path}`);
    if (request.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: cors });
    if (path.includes('test/gated') && request.headers().authorization !== 'Bearer hf_test')
      return route.fulfill({
        status: 401,
        headers: cors,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'Access to model test/gated is restricted' }),
      });
    const tree = /^\/api\/models\/(test\/(?:tiny|slow|gated))\/tree\/main$/.exec(path);
    if (tree) {
      const listing = Object.entries(tiny).map(([name, bytes]) => ({
        type: 'file',
        oid: `oid-${name}`,
        size: bytes.byteLength,
        path: name,
        ...(name.endsWith('.safetensors') && {
          lfs: { oid: `lfs-${name}`, size: bytes.byteLength, pointerSize: 134 },
        }),
      }));
      return route.fulfill({
        status: 200,
        headers: cors,
        contentType: 'application/json',
        body: JSON.stringify(listing),
      });
    }
    const resolve = /^\/(test\/(?:tiny|slow|gated))\/resolve\/main\/(.+)$/.exec(path);
    const bytes = resolve && tiny[resolve[2] as string];
    if (!resolve || !bytes)
      return route.fulfill({
        status: 404,
        headers: { ...cors, 'X-Error-Code': 'EntryNotFound' },
        body: '{}',
      });
    const headers = { ...cors, ETag: `"etag-${resolve[2]}"`, 'Accept-Ranges': 'bytes' };
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers().range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : bytes.byteLength - 1, bytes.byteLength - 1);
      return route.fulfill({
        status: 206,
        headers: { ...headers, 'Content-Range': `bytes ${start}-${end}/${bytes.byteLength}` },
        body: Buffer.from(bytes.subarray(start, end + 1)),
      });
    }
    if (resolve[2] === 'model.safetensors') {
      if (resolve[1] === 'test/slow') await stalled;
      else await new Promise((done) => setTimeout(done, 1500));
    }
    // The page may have cancelled (aborted) this request meanwhile; then there is no one to answer.
    await route.fulfill({ status: 200, headers, body: Buffer.from(bytes) }).catch(() => {});
  });
  return { requests, release: () => release() };
}

test('shows estimates, refuses a run that will not fit, and loads models from the hub and a folder', async ({
  page,
}, testInfo) => {
  const hub = await fakeHub(page);
  await page.goto('/');
  const picker = page.getByTestId('model-picker');
  await expect(picker).toHaveValue('builtin-tiny-llama');

  // The catalogue: built-in + 13 curated language models and 6 classifiers (built-in tiny BERT + 5
  // curated encoders), each with 7 per-method estimates and a fit mark.
  const rows = page.locator('[data-testid="catalogue-row"][data-task="causal-lm"]');
  await expect(rows).toHaveCount(14);
  const classifiers = page.locator('[data-testid="catalogue-row"][data-task="classification"]');
  await expect(classifiers).toHaveCount(6);
  // DistilBERT takes no past key/values, so its prefix cell is n/a, with the planner's reason.
  const distilPrefix = page
    .locator('[data-model-id="distilbert/distilbert-base-uncased"]')
    .getByTestId('estimate-prefix');
  await expect(distilPrefix).toHaveAttribute('data-fits', 'unknown');
  await expect(distilPrefix).toHaveAttribute('title', /no past key\/values/);
  for (const row of [...(await rows.all()), ...(await classifiers.all())]) {
    const cells = row.locator('[data-testid^="estimate-"]');
    await expect(cells).toHaveCount(7);
    for (const cell of await cells.all()) {
      if ((await cell.getAttribute('title'))?.includes('no past key/values')) continue;
      await expect(cell).toHaveAttribute('data-fits', /^(true|false)$/);
      await expect(cell).toContainText(/(KiB|MiB|GiB)/);
    }
  }
  const builtinRow = page.locator('[data-model-id="builtin-tiny-llama"]');
  for (const cell of await builtinRow.locator('[data-testid^="estimate-"]').all())
    await expect(cell).toHaveAttribute('data-fits', 'true');
  const tinyLlamaRow = page.locator('[data-model-id="TinyLlama/TinyLlama-1.1B-Chat-v1.0"]');
  await expect(tinyLlamaRow.getByTestId('estimate-full')).toHaveAttribute('data-fits', 'false');
  await expect(
    page.locator('[data-model-id="openai-community/gpt2"]').getByTestId('model-parameters'),
  ).toHaveText('124.4M');
  // Qwen3-0.6B's file also stores its tied head: 1.5 GB, not parameters × 2 bytes.
  const qwen3Row = page.locator('[data-model-id="Qwen/Qwen3-0.6B"]');
  await expect(qwen3Row.getByTestId('model-parameters')).toHaveText('596.0M');
  await expect(qwen3Row).toContainText('1.40 GiB (estimate, bfloat16 weights)');
  await expect(page.getByTestId('model-catalogue')).toContainText('estimate');

  // The memory plan follows the settings: a larger LoRA rank trains more parameters.
  const trainable = page.getByTestId('trainable-parameters');
  const before = Number((await trainable.textContent())?.replaceAll(',', ''));
  await page.getByTestId('setting-loraR').fill('16');
  await expect(trainable).toHaveText((before * 2).toLocaleString('en-US'));
  await page.getByTestId('setting-loraR').fill('8');
  await expect(page.getByTestId('plan-fit')).toHaveText('fits ✓');
  // The built-in model is stored f32: nothing is kept in half precision.
  await expect(page.getByTestId('plan-half-weights')).toHaveCount(0);
  // An NF4 base shrinks the weights; gradient checkpointing, the activations.
  const bytesOf = async (id: string) => (await page.getByTestId(id).locator('td').textContent()) ?? '';
  const weightsF32 = await bytesOf('plan-weights');
  await page.getByTestId('setting-quantize-base').check();
  await expect(page.getByTestId('plan-nf4-weights')).toContainText('4-bit NF4');
  await expect(page.getByTestId('plan-weights').locator('td')).not.toHaveText(weightsF32);
  await page.getByTestId('setting-quantize-base').uncheck();
  const activations = await bytesOf('plan-activations');
  await page.getByTestId('more-training-settings').locator('summary').click();
  await page.getByTestId('setting-gradient-checkpointing').check();
  await expect(page.getByTestId('plan-activations').locator('td')).not.toHaveText(activations);
  await page.getByTestId('setting-gradient-checkpointing').uncheck();
  await expect(page.getByTestId('plan-activations').locator('td')).toHaveText(activations);
  // A tiny budget: the plan says it does not fit, and start refuses the run with the reason.
  await page.getByTestId('setting-memoryBudget').fill('0.0001');
  await expect(page.getByTestId('plan-fit')).toHaveText('does not fit ✗');
  await page
    .getByTestId('dataset-text')
    .fill('one line of text\nanother line\nand a third\nand a fourth\nfifth');
  await page.getByTestId('start-single').click();
  await expect(page.getByTestId('setup-problem')).toContainText('will not fit, so it was not started');
  await expect(page.getByTestId('run-card')).toHaveCount(0);
  await page.getByTestId('setting-memoryBudget').fill('4');

  // Any hub repo id: progress in bytes, then the model is ready and chosen.
  await page.getByTestId('hub-repo').fill('test/tiny');
  await page.getByTestId('hub-download').click();
  const status = page.getByTestId('download-status');
  const progress = page.getByTestId('download-progress');
  await expect(status).toHaveAttribute('data-status', 'downloading');
  await expect(progress).toHaveAttribute('max', String(expectedTotal));
  const midway = Number(await progress.getAttribute('value'));
  expect(midway).toBeGreaterThan(0);
  expect(midway).toBeLessThan(expectedTotal);
  await expect(page.getByTestId('download-bytes')).toContainText(' of ');
  await testInfo.attach('downloading', { body: await page.screenshot(), contentType: 'image/png' });
  await expect(status).toHaveAttribute('data-status', 'done');
  await expect(progress).toHaveAttribute('value', String(expectedTotal));
  await expect(picker).toHaveValue('test/tiny');
  await expect(page.getByTestId('plan-half-weights')).toContainText('frozen matrices kept 16-bit');
  expect(hub.requests.filter((r) => r.endsWith('/resolve/main/model.safetensors')).length).toBeGreaterThan(0);

  // Again: served from the Cache Storage copy, with no request to the hub.
  const count = hub.requests.length;
  await page.getByTestId('hub-download').click();
  await expect(status).toHaveAttribute('data-status', 'done');
  expect(hub.requests.length).toBe(count);

  // A gated model: refused without a token, with what to do; downloaded with one.
  await page.getByTestId('hub-repo').fill('test/gated');
  await page.getByTestId('hub-download').click();
  await expect(status).toHaveAttribute('data-status', 'failed');
  await expect(status).toContainText('needs an access token (HTTP 401)');
  await page.getByTestId('hub-token').fill('hf_test');
  await page.getByTestId('hub-download').click();
  await expect(status).toHaveAttribute('data-status', 'done');
  await expect(picker).toHaveValue('test/gated');
  expect(hub.requests.some((r) => r.includes('test/gated/resolve/main/model.safetensors'))).toBe(true);
  await page.getByTestId('hub-token').fill('');

  // A stalled download is cancelled; the model is not loaded.
  await page.getByTestId('hub-repo').fill('test/slow');
  await page.getByTestId('hub-download').click();
  await expect(status).toHaveAttribute('data-status', 'downloading');
  await page.getByTestId('download-cancel').click();
  await expect(status).toHaveAttribute('data-status', 'cancelled');
  await expect(picker.locator('option[value="test/slow"]')).toHaveCount(0);
  hub.release();

  // A local folder through the directory input.
  const folder = testInfo.outputPath('tiny-folder');
  mkdirSync(folder, { recursive: true });
  for (const [name, bytes] of Object.entries(tiny)) writeFileSync(join(folder, name), bytes);
  await page.getByTestId('model-folder').setInputFiles(folder);
  await expect(picker).toHaveValue('local/tiny-folder');
  await expect(page.getByTestId('folder-error')).toHaveCount(0);

  // Files dropped together through a real drop event (a DataTransfer built in the page).
  const payload = Object.entries(tiny).map(([name, bytes]) => ({ name, bytes: [...bytes] }));
  await page.getByTestId('model-folder-drop').evaluate((zone, files) => {
    const transfer = new DataTransfer();
    for (const f of files) transfer.items.add(new File([new Uint8Array(f.bytes)], f.name));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, payload);
  await expect(picker).toHaveValue('local/dropped-files');
  await testInfo.attach('picker', {
    body: await page.screenshot({ fullPage: true }),
    contentType: 'image/png',
  });
});

test('"Run at scale…" downloads the job zip, and explains why adapters cannot go', async ({ page }) => {
  await page.goto('/');
  const lines = Array.from({ length: 10 }, (_, i) => `Line ${i} of the dataset for the job.`);
  await page.getByTestId('dataset-text').fill(lines.join('\n'));
  const download = page.waitForEvent('download');
  await page.getByTestId('run-at-scale').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('whetstone-job-lora.zip');
  const zip = unzipSync(new Uint8Array(readFileSync((await file.path()) as string)));
  expect(Object.keys(zip)).toEqual(
    expect.arrayContaining(['train.py', 'dataset/train.jsonl', 'requirements.txt']),
  );
  const trainRows = new TextDecoder()
    .decode(zip['dataset/train.jsonl'])
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { text: string }).text);
  expect(trainRows).toEqual(lines.slice(0, 9)); // the studio holds out the last tenth
  expect(new TextDecoder().decode(zip['train.py'])).toContain('LoraConfig');

  await page.getByRole('radio', { name: /Adapters/ }).check();
  await expect(page.getByTestId('run-at-scale')).toBeDisabled();
  await expect(page.getByTestId('run-at-scale-why')).toContainText('not a PEFT method');
});
