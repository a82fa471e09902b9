/**
 * Which tests run where: the one place that says so.
 *
 * | files                 | project       | environment                                        |
 * |-----------------------|---------------|----------------------------------------------------|
 * | *.cpu.test.ts         | cpu           | Node, no GPU: references, finite differences, parsers, stores |
 * | *.test.ts (others)    | gpu-node      | Node with real WebGPU through Dawn (SwiftShader when no GPU)  |
 * |                       | gpu-chromium  | and again in Chromium, in the page, through Playwright        |
 * | *.node.test.ts        | gpu-node      | Dawn only: tests that need Node (the tfjs CPU autograd oracle) |
 * | *.browser.test.ts     | gpu-chromium  | Chromium only: Web Workers, browser storage          |
 *
 * End-to-end tests of the app (e2e/*.spec.ts) run under Playwright Test; see playwright.config.ts.
 * No test is skipped silently: a GPU that cannot be acquired fails the GPU projects with its reason.
 * The only skips: tests over the real Hugging Face configs and tokenizers in ../shared/hf-fixtures
 * (`describe.runIf(existsSync(fixtures))`) are skipped when that folder is absent, as outside CI.
 */
import { existsSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { chromiumArgs, findChromium } from './e2e/chromium.ts';
import { nodeGpuEnvironment } from './src/gpu/device/node-webgpu.ts';

// Test processes are forked from this one and inherit its environment; the dynamic linker reads
// LD_LIBRARY_PATH only at process start, so it has to be set here, not inside a test.
Object.assign(process.env, nodeGpuEnvironment(process.env, existsSync));

const gpuTests = ['src/**/*.test.ts'];
const notGpu = ['src/**/*.cpu.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'cpu', include: ['src/**/*.cpu.test.ts'], environment: 'node' },
      },
      {
        test: {
          name: 'gpu-node',
          include: gpuTests,
          exclude: [...notGpu, 'src/**/*.browser.test.ts'],
          environment: 'node',
          pool: 'forks',
          // The files share their worker process, and so its one GPU device and pipeline cache
          // (testRuntime): each kernel compiles once per run rather than once per file, which on
          // SwiftShader is seconds a kernel (the project takes ~40% less time). Tests that measure
          // memory do so on arenas of their own (CaseArena), not on the shared one.
          isolate: false,
          globalSetup: ['scripts/build-cli.ts'],
          testTimeout: 120_000,
        },
      },
      {
        // Pre-bundled up front: discovering them mid-run makes Vite reload the page under a test.
        optimizeDeps: {
          include: [
            '@tensorflow/tfjs',
            '@huggingface/tokenizers',
            '@huggingface/jinja',
            '@huggingface/hub',
            'papaparse',
            'hyparquet',
            'idb-keyval',
          ],
        },
        test: {
          name: 'gpu-chromium',
          include: gpuTests,
          exclude: [...notGpu, 'src/**/*.node.test.ts'],
          testTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: findChromium(), args: chromiumArgs } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
