/**
 * Vitest global setup for the gpu-node project: builds the CLI bundle once before any test runs, so
 * test files that start `whetstone` in parallel never race to rebuild it.
 */
import { build } from 'vite';

export default async function buildCli(): Promise<void> {
  await build({ configFile: new URL('../vite.cli.config.ts', import.meta.url).pathname, logLevel: 'error' });
}
