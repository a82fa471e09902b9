/**
 * A dropped chat dataset trains through the data pipeline, end to end: the run's spec carries the
 * library file itself (not the examples' texts), the training worker reads it and applies the chat
 * template with the prompt masked, and the run trains to its last step. What the page sent to the
 * worker is recorded from Worker.postMessage before any app script runs.
 */
import { expect, type Page, test } from '@playwright/test';
import {
  dropDatasetFile,
  fillRunSettings,
  instrument,
  loadWorkerOnce,
  snap,
  startLoraRun,
  workerProgress,
} from './studio-helpers';

declare global {
  interface Window {
    /** The shape of each start-run request the page sent: where its examples came from. */
    __startedSpecs: {
      runId: string;
      file: string | null;
      fileBytes: number;
      texts: number;
      maskPrompt?: boolean;
    }[];
  }
}

async function recordStarts(page: Page) {
  await page.addInitScript(() => {
    window.__startedSpecs = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, message: unknown, ...rest: unknown[]) {
      const m = message as {
        kind?: string;
        runId?: string;
        spec?: {
          trainTexts?: string[];
          data?: { file?: { blob: Blob; fileName: string }; maskPrompt?: boolean };
        };
      };
      if (m?.kind === 'start-run' && m.spec)
        window.__startedSpecs.push({
          runId: m.runId as string,
          file: m.spec.data?.file?.fileName ?? null,
          fileBytes: m.spec.data?.file?.blob.size ?? 0,
          texts: m.spec.trainTexts?.length ?? 0,
          maskPrompt: m.spec.data?.maskPrompt,
        });
      return (post as (...a: unknown[]) => void).call(this, message, ...rest);
    } as typeof Worker.prototype.postMessage;
  });
}

const conversations = Array.from({ length: 8 }, (_, i) => [`Question ${i}?`, `Answer ${i}.`]);
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

test('a dropped chat dataset trains from its file, prompts masked, to the last step', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await instrument(page);
  await recordStarts(page);
  await loadWorkerOnce(page);
  await page.goto('/');
  await dropDatasetFile(page, 'chat.jsonl', chatJsonl);
  await expect(page.getByTestId('dataset-count')).toHaveAttribute('data-count', String(conversations.length));
  // The preview shows the template with the user's turn masked, as training will see it.
  await expect(page.getByTestId('preview-row').first().getByTestId('span-trained')).toContainText(
    'Answer 0.',
  );

  await fillRunSettings(page, { steps: 3, evalEvery: 0 });
  const { card, runId } = await startLoraRun(page);
  await expect(card).toHaveAttribute('data-status', 'finished', { timeout: 240_000 });
  await expect(card.getByTestId('metric-step')).toContainText('3 / 3');

  // The page sent the file (its bytes, no texts); the worker trained every step on it.
  const started = await page.evaluate(() => window.__startedSpecs);
  expect(started).toEqual([
    {
      runId,
      file: 'chat.jsonl',
      fileBytes: new TextEncoder().encode(chatJsonl).length,
      texts: 0,
      maskPrompt: true,
    },
  ]);
  const steps = await workerProgress(page, runId);
  expect(steps.map((p) => p.step)).toEqual([1, 2, 3]);
  for (const p of steps) expect(Number.isFinite(p.loss)).toBe(true);
  await snap(page, testInfo, 'dataset-file-trained');
});
