#!/usr/bin/env node
// `npm run gpu-kit`: packs what `whetstone bench` needs to run on a GPU machine that can fetch nothing
// (the device machines lent to some tasks have no network and no Node): this Node binary, the CLI bundled
// with every JS dependency inlined, the "webgpu" package's linux-x64 Dawn, and Debian's Vulkan loader.
// Everything goes into .gpu-kit/kit.tar.xz (git-ignored; ~30 MiB, under the device's 64 MiB carry
// limit) beside run.sh, which unpacks it there and runs the benchmark. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, '.gpu-kit');
const staging = join(out, 'kit');
// Debian's names for the Vulkan loader and the GL dispatch libraries NVIDIA's Vulkan driver loads.
const debs = ['libvulkan1', 'libglvnd0', 'libglx0', 'libegl1'];
const carryLimit = 64 * 2 ** 20;

rmSync(out, { recursive: true, force: true });
mkdirSync(join(staging, 'debs'), { recursive: true });

console.error('gpu-kit: bundling the CLI with its dependencies');
await build({
  configFile: join(root, 'vite.cli.config.ts'),
  logLevel: 'error',
  ssr: { noExternal: true },
  build: { outDir: join(staging, 'cli'), emptyOutDir: true },
});

// The "webgpu" package stays outside the bundle (it loads a native module): only its linux-x64 build.
const webgpu = join(root, 'node_modules', 'webgpu');
const kitWebgpu = join(staging, 'cli', 'node_modules', 'webgpu');
mkdirSync(join(kitWebgpu, 'dist', 'linux-x64'), { recursive: true });
for (const file of ['index.js', 'package.json', join('dist', 'linux-x64', 'dawn.node')]) {
  copyFileSync(join(webgpu, file), join(kitWebgpu, file));
}
copyFileSync(process.execPath, join(staging, 'node'));

console.error(`gpu-kit: downloading ${debs.join(', ')} (apt-get download)`);
execFileSync('apt-get', ['download', ...debs], { cwd: join(staging, 'debs'), stdio: 'inherit' });

console.error('gpu-kit: compressing');
execFileSync('tar', ['-cJf', join(out, 'kit.tar.xz'), '-C', staging, '.'], {
  stdio: 'inherit',
  env: { ...process.env, XZ_OPT: '-6 -T0' },
});
rmSync(staging, { recursive: true });
cpSync(join(root, 'bench', 'gpu-kit', 'run.sh'), join(out, 'run.sh'));

const bytes = statSync(join(out, 'kit.tar.xz')).size;
console.error(`gpu-kit: .gpu-kit/kit.tar.xz is ${(bytes / 2 ** 20).toFixed(1)} MiB`);
if (bytes > carryLimit * 0.9) {
  console.error('gpu-kit: too close to the device machine’s 64 MiB carry limit');
  process.exit(1);
}
