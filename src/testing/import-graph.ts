/**
 * The files a module loads, however indirectly, for boundary tests ("the UI never imports src/gpu").
 * Only value imports count: type-only imports vanish at build time. Workers started with
 * `new Worker(new URL(...))` are not imports, which is the point: the UI reaches the GPU only by messages.
 */
import { existsSync, readFileSync } from 'node:fs';

const importPattern = /^(?:import|export)\s+(type\s+)?[^'";]*from\s+'([^']+)'/gm;

export function valueImportClosure(entryFiles: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, typeOnly, spec] of readFileSync(file, 'utf8').matchAll(importPattern)) {
      if (typeOnly || !spec?.startsWith('.')) continue;
      const base = new URL(spec, `file://${file}`).pathname;
      const candidates = [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`];
      const found = candidates.find((f) => /\.tsx?$/.test(f) && existsSync(f));
      if (found) visit(found);
    }
  };
  for (const file of entryFiles) visit(file);
  return seen;
}
