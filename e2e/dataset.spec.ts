/**
 * Datasets, end to end in Chromium: a JSONL file dropped through a real `drop` event with a DataTransfer
 * is read in the dataset worker (recorded from the page's Worker, so the work is known to be off the
 * main thread), previewed as the built-in model sees it (ChatML template, masked prompt, token counts)
 * with a histogram, kept in IndexedDB across reloads, renamed and deleted; a malformed file names its
 * line and can be read with bad rows skipped; a CSV chosen with the file picker is mapped by hand.
 * Token counts are checked against the built-in tokenizer's rule (one token per UTF-8 byte), computed
 * here, so nothing shown can be hard-coded. Screenshots are attached to each test.
 */
import { expect, type Page, test } from '@playwright/test';
import { dropDatasetFile, snap } from './studio-helpers';

declare global {
  interface Window {
    /** Messages the dataset worker sent, before the app saw them. */
    __datasetWorkerEvents: { kind: string; phase?: string; done?: number; total?: number }[];
  }
}

async function instrument(page: Page) {
  await page.addInitScript(() => {
    window.__datasetWorkerEvents = [];
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        if (options?.name === 'whetstone-datasets')
          this.addEventListener('message', (event: MessageEvent) =>
            window.__datasetWorkerEvents.push(event.data),
          );
      }
    };
  });
}

const bytes = (text: string) => new TextEncoder().encode(text).length;
const conversations = [
  ['Hi there', 'Hello!'],
  ['What sharpens a knife?', 'A whetstone.'],
  ['Coarse or fine side first?', 'Coarse first, then fine.'],
  ['How wet?', 'Keep it wet throughout, and rinse it after.'],
  ['Angle?', 'Low: about fifteen to twenty degrees.'],
];
const chatJsonl = conversations
  .map(([user, assistant]) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: user },
        { role: 'assistant', content: assistant },
      ],
    }),
  )
  .join('\n');
/** The built-in model's ChatML rendering, split where prompt masking splits it. */
const chatml = (user: string, assistant: string) => ({
  prompt: `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`,
  reply: `${assistant}<|im_end|>\n`,
});

test('a dropped JSONL file is previewed as the model sees it, kept across reloads, renamed and deleted', async ({
  page,
}, testInfo) => {
  test.setTimeout(120_000);
  await instrument(page);
  await page.goto('/');
  await expect(page.getByTestId('library-empty')).toBeVisible();

  await dropDatasetFile(page, 'chats.jsonl', chatJsonl);
  const count = page.getByTestId('dataset-count');
  await expect(count).toHaveAttribute('data-count', String(conversations.length));
  await expect(count).toContainText('chats.jsonl');
  await expect(count).toContainText('chat schema, detected');

  // The work was the worker's: reading progress up to the file's size, then one analysis.
  const events = await page.evaluate(() => window.__datasetWorkerEvents);
  const reading = events.filter((e) => e.kind === 'progress' && e.phase === 'reading');
  expect(reading.at(-1)).toMatchObject({ done: bytes(chatJsonl), total: bytes(chatJsonl) });
  expect(events.filter((e) => e.kind === 'analysis')).toHaveLength(1);

  const rows = page.getByTestId('preview-row');
  await expect(rows).toHaveCount(conversations.length);
  for (const [i, [user, assistant]] of conversations.entries()) {
    const { prompt, reply } = chatml(user as string, assistant as string);
    const row = rows.nth(i);
    await expect(row.getByTestId('span-masked')).toHaveText(prompt);
    await expect(row.getByTestId('span-trained')).toHaveText(reply);
    await expect(row.getByTestId('preview-tokens')).toHaveAttribute(
      'data-tokens',
      String(bytes(prompt + reply)),
    );
    await expect(row.getByTestId('preview-tokens')).toContainText(`(${bytes(reply)} trained)`);
  }
  const lengths = conversations.map(([u, a]) => {
    const { prompt, reply } = chatml(u as string, a as string);
    return bytes(prompt + reply);
  });
  await expect(page.getByTestId('token-total')).toHaveAttribute(
    'data-total',
    String(lengths.reduce((a, b) => a + b)),
  );
  const bars = page.getByTestId('histogram-bar');
  await expect(page.getByTestId('token-histogram')).toBeVisible();
  const barCounts = await bars.evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-count'))));
  expect(barCounts.reduce((a, b) => a + b, 0)).toBe(conversations.length);
  expect(Number(await bars.first().getAttribute('data-from'))).toBe(Math.min(...lengths));
  const entry = page.getByTestId('library-entry');
  await expect(entry).toHaveCount(1);
  await expect(entry).toHaveAttribute('data-active', 'true');
  await expect(entry.getByTestId('library-name')).toHaveText('chats.jsonl');
  await snap(page, testInfo, 'dataset-dropped-preview');

  // Rename, then reload: the entry, its name and its preview are all still there.
  await entry.getByTestId('library-rename').click();
  const nameInput = entry.getByTestId('library-rename-input');
  await nameInput.fill('Knife care chats');
  await nameInput.press('Enter');
  await expect(entry.getByTestId('library-name')).toHaveText('Knife care chats');
  await page.reload();
  await expect(page.getByTestId('library-entry')).toHaveCount(1);
  await expect(page.getByTestId('library-name')).toHaveText('Knife care chats');
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', String(conversations.length));
  await expect(page.getByTestId('preview-row')).toHaveCount(conversations.length);
  const first = chatml(conversations[0]?.[0] as string, conversations[0]?.[1] as string);
  await expect(page.getByTestId('preview-row').first().getByTestId('span-masked')).toHaveText(first.prompt);
  await expect(page.getByTestId('token-histogram')).toBeVisible();
  await snap(page, testInfo, 'dataset-after-reload');

  // Pasting text makes it the dataset; the library entry stays, and "Use" brings it back.
  await page.getByTestId('dataset-text').fill('one\ntwo');
  await expect(page.getByTestId('library-entry')).toHaveAttribute('data-active', 'false');
  await page.getByTestId('library-select').click();
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', String(conversations.length));

  await page.getByTestId('library-delete').click();
  await expect(page.getByTestId('library-entry')).toHaveCount(0);
  await expect(page.getByTestId('dataset-count')).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId('library-empty')).toBeVisible();
  await expect(page.getByTestId('library-entry')).toHaveCount(0);
  await snap(page, testInfo, 'dataset-deleted');
});

test('a malformed file names its line, is not saved, and reads with bad rows skipped', async ({
  page,
}, testInfo) => {
  await page.goto('/');
  await expect(page.getByTestId('library-empty')).toBeVisible();
  const broken = ['{"text": "first"}', '{"text": "second"}', '{"text": third}', '{"text": "fourth"}'].join(
    '\r\n',
  );
  await dropDatasetFile(page, 'broken.jsonl', broken);
  const error = page.getByTestId('dataset-file-error');
  await expect(error).toHaveAttribute('data-line', '3');
  await expect(error).toHaveAttribute('data-error', 'DatasetRowError');
  await expect(error).toHaveText('Line 3: broken.jsonl, line 3: not valid JSON: {"text": third}');
  await expect(page.getByTestId('library-entry')).toHaveCount(0);
  await page.getByTestId('start-compare').click();
  await expect(page.getByTestId('setup-problem')).toHaveText('Fix line 3 of the dataset first.');
  await snap(page, testInfo, 'dataset-malformed-file');

  await page.getByTestId('skip-bad-rows').click();
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', '3');
  await expect(page.getByTestId('dataset-rows')).toHaveAttribute('data-bad-rows', '1');
  await expect(page.getByTestId('preview-row')).toHaveCount(3);
  await expect(page.getByTestId('preview-row').nth(2)).toHaveAttribute('data-line', '4');
  await expect(page.getByTestId('library-entry')).toHaveCount(1);
  await snap(page, testInfo, 'dataset-bad-rows-skipped');
});

test('a CSV chosen with the file picker is mapped to prompt and completion by hand', async ({
  page,
}, testInfo) => {
  await page.goto('/');
  await page.getByTestId('dataset-file').setInputFiles({
    name: 'qa.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('question,answer\n"What, exactly?",Everything\nWhy?,Because\n'),
  });
  const error = page.getByTestId('dataset-file-error');
  await expect(error).toHaveAttribute('data-error', 'SchemaDetectionError');
  await page.getByTestId('schema-kind').selectOption('prompt-completion');
  await page.getByTestId('map-prompt').selectOption('question');
  await page.getByTestId('map-completion').selectOption('answer');
  await page.getByTestId('apply-schema').click();
  const count = page.getByTestId('dataset-count');
  await expect(count).toHaveAttribute('data-count', '2');
  await expect(count).toContainText('prompt-completion schema, as you chose');
  const row = page.getByTestId('preview-row').first();
  await expect(row.getByTestId('span-masked')).toHaveText('<s>What, exactly?');
  await expect(row.getByTestId('span-trained')).toHaveText('Everything</s>');
  await expect(row.getByTestId('preview-tokens')).toHaveAttribute(
    'data-tokens',
    String(1 + bytes('What, exactly?Everything') + 1),
  );
  await expect(page.getByTestId('library-entry')).toHaveCount(1);
  await snap(page, testInfo, 'dataset-csv-mapped');
});
