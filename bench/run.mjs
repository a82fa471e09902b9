#!/usr/bin/env node
// `npm run bench`: `whetstone bench` (src/cli/bench.ts → src/bench/bench-command.ts) through the CLI's
// launcher, bin/whetstone.mjs, which builds the bundle when stale and finds a Vulkan driver (SwiftShader
// without a GPU). One implementation; the only difference is that results are saved to bench/results
// by default. Arguments pass through: `npm run bench -- --gpu`, `--out DIR` or `--no-save`.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// A later --out on the command line wins (parseArgs keeps the last); --no-save overrides both.
const args = ['bench', '--out', join(root, 'bench', 'results'), ...process.argv.slice(2)];
const result = spawnSync(process.execPath, [join(root, 'bin', 'whetstone.mjs'), ...args], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
