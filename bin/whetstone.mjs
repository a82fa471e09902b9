#!/usr/bin/env node
// The `whetstone` command. It (1) builds the CLI bundle from src/ when it is missing or older than
// the sources (Vite compiles the WGSL imports), and (2) runs it in a child Node whose environment lets
// Dawn find a Vulkan driver: without a GPU driver, Debian Chromium's SwiftShader. The dynamic linker
// reads LD_LIBRARY_PATH only at process start, hence the child process.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'cli', 'main.js');

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
  await build({ configFile: join(root, 'vite.cli.config.ts'), logLevel: 'error' });
}

const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
const env = { ...process.env };
// A GPU machine's own Vulkan driver (registered in icd.d) wins; SwiftShader only stands in without one.
const systemDriver = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'].some((dir) => existsSync(dir));
if (existsSync(icd)) {
  if (!systemDriver) env.VK_ICD_FILENAMES ??= icd;
  const paths = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (!paths.includes('/usr/lib/chromium')) env.LD_LIBRARY_PATH = [...paths, '/usr/lib/chromium'].join(':');
}
const result = spawnSync(process.execPath, [bundle, ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
