#!/usr/bin/env node
// `npm run bench`. It (1) builds the benchmark bundle from src/ when it is missing or older than the
// sources (Vite compiles the WGSL imports, as for the CLI), and (2) runs it in a child Node whose
// environment lets Dawn find a Vulkan driver: without a GPU driver, Debian Chromium's SwiftShader. The
// dynamic linker reads LD_LIBRARY_PATH only at process start, hence the child process. Arguments pass
// through: `npm run bench -- --gpu --json`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'bench', 'main.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

if (!existsSync(bundle) || statSync(bundle).mtimeMs < newestSource(join(root, 'src'))) {
  const { build } = await import('vite');
  await build({ configFile: join(root, 'vite.bench.config.ts'), logLevel: 'error' });
}

// A machine with a Vulkan driver of its own lists it in icd.d: use it. Only without one fall back to
// SwiftShader (Dawn's loader would otherwise be pointed at SwiftShader even on a GPU machine that has
// Chromium installed).
const systemIcds = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d']
  .filter((dir) => existsSync(dir))
  .flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => join(dir, name)),
  );
const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
const env = { ...process.env };
if (systemIcds.length > 0) env.VK_ICD_FILENAMES ??= systemIcds.join(':');
if (existsSync(icd)) {
  env.VK_ICD_FILENAMES ??= icd;
  const paths = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (!paths.includes('/usr/lib/chromium')) env.LD_LIBRARY_PATH = [...paths, '/usr/lib/chromium'].join(':');
}
const result = spawnSync(process.execPath, [bundle, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
  cwd: root,
});
process.exit(result.status ?? 1);
