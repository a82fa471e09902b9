/**
 * PyTorch checkpoint files in Chromium, as a dropped pytorch_model.bin arrives: a File read by byte
 * ranges (Blob.slice), the zip directory read by unzipit in the browser. Values as in
 * torch-weights.cpu.test.ts (fixtures/make-torch-fixtures.py's formula).
 */
import { describe, expect, it } from 'vitest';
import legacyUrl from './fixtures/torch-legacy.bin?url';
import zipUrl from './fixtures/torch-zip.bin?url';
import { filesFromBrowser } from './model-files';
import { openTorchWeights } from './torch-weights';

const value = (i: number, k: number) => (((7 * i + 3 * k) % 61) - 30) / 8;

describe('pytorch_model.bin in the browser', () => {
  it.each([
    ['zip', zipUrl],
    ['legacy', legacyUrl],
  ])('reads a dropped %s file', async (_, url) => {
    const bytes = await (await fetch(url)).arrayBuffer();
    const files = filesFromBrowser([new File([bytes], 'pytorch_model.bin')]);
    const weights = await openTorchWeights(files, 'pytorch_model.bin');
    // Shape [3, 2], stride [1, 3]: element (r, c) is storage 4's element r + 3c.
    expect([...(await weights.read('transposed.weight'))]).toEqual(
      [0, 1, 2].flatMap((r) => [value(4, r), value(4, r + 3)]),
    );
    expect([...(await weights.read('bf16.weight'))]).toEqual([0, 1, 2, 3, 4, 5].map((k) => value(2, k)));
  });
});
