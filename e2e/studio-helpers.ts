/**
 * Shared pieces of the end-to-end tests (e2e/*.spec.ts): recording what the training worker sends and
 * the page's long tasks, opening the studio with the worker loaded once, the setup steps the specs repeat
 * (pasting or dropping a dataset, filling the run settings, starting a LoRA run, pausing it at its first
 * checkpoint), screenshots, the sample datasets, and readers for what the page and the worker show (run
 * ids, worker progress, checkpoint steps on disk, a safetensors header, how fast a tab answers).
 */
import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';

/**
 * A training-worker message as recorded: a progress message carries `progress`; eval and checkpoint
 * messages their `step`, an eval also its `loss` (and `classification` scores for a classifier, rewards
 * for a DPO run).
 */
export interface RecordedWorkerEvent {
  kind: string;
  runId?: string;
  step?: number;
  loss?: number;
  progress?: { step: number; loss: number; elapsedMs: number; preference?: RecordedRewards };
  classification?: { accuracy: number; f1: number; confusion: number[][]; count: number };
  /** A DPO run's eval: the validation pairs' rewards. */
  preference?: RecordedRewards;
}

/** A DPO run's rewards as the worker sends them with a step or an evaluation. */
export interface RecordedRewards {
  rewardAccuracy: number;
  rewardMargin: number;
  chosenReward: number;
  rejectedReward: number;
}

declare global {
  interface Window {
    /** Progress, eval and checkpoint messages as the training worker sent them, before the app saw them. */
    __workerEvents: RecordedWorkerEvent[];
    /** Main-thread tasks longer than 50 ms (the Long Tasks API), in ms. */
    __longTasks: number[];
  }
}

/** Records every worker message and every long main-thread task, before any app script runs. */
export async function instrument(page: Page) {
  await page.addInitScript(() => {
    window.__workerEvents = [];
    window.__longTasks = [];
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        this.addEventListener('message', (event: MessageEvent<RecordedWorkerEvent>) => {
          if (
            event.data.kind === 'progress' ||
            event.data.kind === 'eval' ||
            event.data.kind === 'checkpoint'
          )
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
export async function loadWorkerOnce(page: Page) {
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

/** Instruments the page (see `instrument`), loads the training worker once, and opens the studio. */
export async function openStudio(page: Page) {
  await instrument(page);
  await loadWorkerOnce(page);
  await page.goto('/');
}

export async function snap(page: Page, testInfo: TestInfo, name: string) {
  const body = await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
  await testInfo.attach(name, { body, contentType: 'image/png' });
}

export const sentences = [
  'The quick brown fox jumps over the lazy dog.',
  'A whetstone sharpens a blade with slow, even strokes.',
  'Small models learn quickly when the text repeats itself.',
  'Keep the stone wet and the angle low.',
  'Ten strokes on one side, then ten on the other.',
  'Watch the validation loss to know when to stop.',
];

/** Picks a model in the studio's model picker by its id (such as `builtin-tiny-bert`). */
export async function pickModel(page: Page, modelId: string) {
  await page.getByTestId('model-picker').selectOption(modelId);
}

/** Pastes a dataset into the studio's text box, one example a line: the sample sentences unless told. */
export async function pasteDataset(page: Page, lines: readonly string[] = sentences) {
  await page.getByTestId('dataset-text').fill(lines.join('\n'));
}

/** Drops a file on the dataset drop zone as a browser does: dragover, then drop, carrying the file. */
export async function dropDatasetFile(
  page: Page,
  fileName: string,
  content: string,
  type = 'application/jsonl',
) {
  const dataTransfer = await page.evaluateHandle(
    ({ fileName, content, type }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([content], fileName, { type }));
      return transfer;
    },
    { fileName, content, type },
  );
  const zone = page.getByTestId('drop-zone');
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
}

/** Drops `mrpcStyleTsv` (below) under the name of MRPC's own training file. */
export function dropMrpcStyleTsv(page: Page) {
  return dropDatasetFile(page, 'msr_paraphrase_train.txt', mrpcStyleTsv, 'text/tab-separated-values');
}

/** Run settings by the name that follows `setting-` in each field's test id. */
export type RunSettings = Partial<
  Record<'steps' | 'evalEvery' | 'lr' | 'fullLr' | 'batchSize' | 'seqLen' | 'memoryBudget', number>
>;

/** Fills the run settings' fields, in the order the object lists them. */
export async function fillRunSettings(page: Page, settings: RunSettings) {
  for (const [name, value] of Object.entries(settings))
    await page.getByTestId(`setting-${name}`).fill(String(value));
}

/** What the classification specs train the tiny BERT with: 8 pairs a batch of 24 tokens, at lr 0.01. */
export const tinyBertClassifierSettings = { batchSize: 8, lr: 0.01, seqLen: 24 } satisfies RunSettings;

/** Chooses LoRA and starts a single run; returns its card, once shown, and its run id. */
export async function startLoraRun(page: Page): Promise<{ card: Locator; runId: string }> {
  await page.getByRole('radio', { name: /^LoRA/ }).check();
  await page.getByTestId('start-single').click();
  const card = page.getByTestId('run-card');
  await expect(card).toHaveCount(1);
  return { card, runId: (await card.getAttribute('data-run-id')) as string };
}

/** The card of the run `runId` among the live runs. */
export const runCard = (page: Page, runId: string) =>
  page.locator(`[data-testid="run-card"][data-run-id="${runId}"]`);

/** Every progress, eval and checkpoint message the training worker has sent so far. */
export const recordedWorkerEvents = (page: Page) => page.evaluate(() => window.__workerEvents);

/** The progress the worker reported for a run, in the order it sent it. */
export async function workerProgress(page: Page, runId: string) {
  return (await recordedWorkerEvents(page)).flatMap((e) =>
    e.kind === 'progress' && e.runId === runId && e.progress ? [e.progress] : [],
  );
}

/** The last loss the worker reported for a run. */
export async function workerFinalLoss(page: Page, runId: string): Promise<number> {
  const mine = await workerProgress(page, runId);
  expect(mine.length).toBeGreaterThan(0);
  return (mine[mine.length - 1] as { loss: number }).loss;
}

/**
 * Waits (up to `timeout` ms) until the worker has sent the run's first checkpoint, then pauses the run,
 * so that it cannot finish before the test reloads the tab.
 */
export async function pauseAtFirstCheckpoint(page: Page, card: Locator, runId: string, timeout: number) {
  await expect
    .poll(
      async () =>
        (await recordedWorkerEvents(page)).some((e) => e.kind === 'checkpoint' && e.runId === runId),
      { timeout },
    )
    .toBe(true);
  await card.getByTestId('pause-run').click();
  await expect(card).toHaveAttribute('data-status', 'paused');
}

/**
 * The step the run's record on disk names as its checkpoint (0 when none), and the step its checkpoint
 * pointer names (-1 when none): the two agree once a checkpoint is wholly on disk.
 */
export async function checkpointStepsOnDisk(page: Page, runId: string) {
  const record = (await idbValue(page, 'whetstone-runs', 'runs', runId)) as
    | { checkpointStep?: number }
    | undefined;
  const pointer = (await idbValue(page, 'whetstone-checkpoints', 'checkpoints', `run:${runId}`)) as
    | { step: number }
    | undefined;
  return { record: record?.checkpointStep ?? 0, pointer: pointer?.step ?? -1 };
}

export async function runIds(cards: Locator): Promise<string[]> {
  const ids: string[] = [];
  for (const card of await cards.all()) ids.push((await card.getAttribute('data-run-id')) as string);
  return ids;
}

/** The safetensors header (8-byte little-endian length, then JSON). */
export function safetensorsHeader(bytes: Uint8Array): Record<string, unknown> {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
}

/** Clicks a tab in the page and measures, in the page, until its screen is shown and painted. */
export async function tabAnswerMs(page: Page, tab: string): Promise<number> {
  return page.evaluate(
    (id) =>
      new Promise<number>((resolve) => {
        const started = performance.now();
        (document.querySelector(`[data-testid="tab-${id}"]`) as HTMLButtonElement).click();
        const check = () => {
          if (!(document.getElementById(`screen-${id}`) as HTMLElement).hidden)
            requestAnimationFrame(() => resolve(performance.now() - started));
          else requestAnimationFrame(check);
        };
        check();
      }),
    tab,
  );
}

/**
 * The median of `tries` tab answers, alternating between two tabs and ending on `first`. A single click
 * can wait on the operating system when other jobs load the machine; a page that training work blocks
 * answers late every time, which the median still shows.
 */
export async function medianTabAnswerMs(page: Page, first: string, second: string, tries = 5) {
  const answers: number[] = [];
  for (let i = 0; i < tries; i++) answers.push(await tabAnswerMs(page, i % 2 === tries % 2 ? second : first));
  answers.sort((a, b) => a - b);
  return { median: answers[Math.floor(tries / 2)] as number, answers };
}

/** A value of an idb-keyval database, read only once the app has made the database (never creating it). */
export function idbValue(page: Page, database: string, storeName: string, key: string): Promise<unknown> {
  return page.evaluate(
    async ({ database, storeName, key }) => {
      if (!(await indexedDB.databases()).some((d) => d.name === database)) return undefined;
      return new Promise((resolve, reject) => {
        const open = indexedDB.open(database);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains(storeName)) {
            db.close();
            return resolve(undefined);
          }
          const get = db.transaction(storeName).objectStore(storeName).get(key);
          get.onsuccess = () => {
            db.close();
            resolve(get.result);
          };
          get.onerror = () => reject(get.error);
        };
      });
    },
    { database, storeName, key },
  );
}

/** The text of the dataset library's newest file named `fileName`, read in the page from IndexedDB. */
export function libraryFileText(page: Page, fileName: string): Promise<string | undefined> {
  return page.evaluate(async (fileName) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('whetstone-datasets');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const read = <T>(key: string) =>
      new Promise<T | undefined>((resolve, reject) => {
        const get = db.transaction('datasets').objectStore('datasets').get(key);
        get.onsuccess = () => resolve(get.result as T | undefined);
        get.onerror = () => reject(get.error);
      });
    const index = (await read<{ id: string; fileName: string }[]>('index')) ?? [];
    const entry = index.findLast((e) => e.fileName === fileName);
    const stored = entry && (await read<{ blob: Blob }>(`file:${entry.id}`));
    db.close();
    return stored?.blob.text();
  }, fileName);
}

/**
 * A sentence-pair TSV in MRPC's columns: 40 rows, 24 positive (the first sentence names a cat or a dog),
 * 16 negative (a mat). Trivially learnable, so a few steps of the tiny BERT show learning.
 */
export const mrpcStyleTsv = (() => {
  const rows = Array.from({ length: 40 }, (_, i) => {
    const positive = i % 5 < 3;
    const thing = positive ? (i % 2 === 0 ? 'cat' : 'dog') : 'mat';
    const other = ['cat', 'dog', 'mat'][i % 3] as string;
    return `${positive ? 1 : 0}\t${1000 + i}\t${2000 + i}\tThe ${thing} sat .\tOn the ${other} !`;
  });
  return `Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n${rows.join('\n')}\n`;
})();
