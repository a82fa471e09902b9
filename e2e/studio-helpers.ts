/**
 * Shared pieces of the studio's end-to-end tests (e2e/studio-*.spec.ts): recording what the training
 * worker sends and the page's long tasks, loading the worker once before a test, screenshots, the sample
 * sentences, and readers for what the page shows (run ids, the last loss, a safetensors header, how fast
 * a tab answers).
 */
import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';

export interface RecordedProgress {
  kind: 'progress';
  runId: string;
  progress: { step: number; loss: number };
}

declare global {
  interface Window {
    /** Progress, eval and checkpoint messages as the training worker sent them, before the app saw them. */
    __workerEvents: { kind: string; runId?: string }[];
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
        this.addEventListener('message', (event: MessageEvent<{ kind: string; runId?: string }>) => {
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

/** The last loss the worker reported for a run. */
export async function workerFinalLoss(page: Page, runId: string): Promise<number> {
  const events = (await page.evaluate(() => window.__workerEvents)) as RecordedProgress[];
  const mine = events.filter((e) => e.kind === 'progress' && e.runId === runId);
  expect(mine.length).toBeGreaterThan(0);
  return (mine[mine.length - 1] as RecordedProgress).progress.loss;
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
