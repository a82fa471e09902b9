/** The UI talks to the GPU only through workers: no UI module loads anything under src/gpu. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { valueImportClosure } from '../testing/import-graph';

const uiRoot = new URL('.', import.meta.url).pathname;
const uiModules = (readdirSync(uiRoot, { recursive: true }) as string[])
  .filter((f) => /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f))
  .map((f) => join(uiRoot, f));

it('no UI module imports src/gpu, however indirectly', () => {
  const loaded = valueImportClosure(uiModules);
  expect(uiModules.length).toBeGreaterThan(40);
  expect([...loaded].some((f) => f.includes('/src/train/'))).toBe(true);
  expect([...loaded].filter((f) => f.includes('/src/gpu/'))).toEqual([]);
});
