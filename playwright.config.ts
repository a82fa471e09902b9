/**
 * Playwright Test for the end-to-end tests (e2e/*.spec.ts): the app served by Vite on 4173, driven in
 * the Chromium that `findChromium()` finds (never a download), with WebGPU on. Screenshots of every
 * test are kept in test-results/ as artifacts. Unit and kernel tests are vitest's; see vitest.config.ts.
 */
import { defineConfig } from '@playwright/test';
import { chromiumArgs, findChromium } from './e2e/chromium';

const port = 4173;

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  outputDir: 'test-results',
  // WebGPU runs on SwiftShader (the CPU) on machines without a GPU, so device creation is slow.
  timeout: 60_000,
  expect: { timeout: 30_000 },
  workers: 1,
  reporter: 'list',
  forbidOnly: Boolean(process.env.CI),
  use: {
    baseURL: `http://localhost:${port}`,
    headless: true,
    screenshot: 'on',
  },
  projects: [
    {
      name: 'chromium',
      use: { launchOptions: { executablePath: findChromium(), args: chromiumArgs } },
    },
  ],
  webServer: {
    command: `npx vite --port ${port} --strictPort`,
    url: `http://localhost:${port}`,
    reuseExistingServer: !process.env.CI,
  },
});
