/**
 * Finds the Chromium that browser tests drive. Order: $CHROMIUM_PATH, /usr/bin/chromium, then a browser
 * Playwright downloaded earlier. Never downloads one. If none is found, says exactly what to install.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright';

export const chromiumArgs = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export class ChromiumNotFoundError extends Error {
  override readonly name = 'ChromiumNotFoundError';
}

export function findChromium(env: Record<string, string | undefined> = process.env): string {
  const candidates: [string, string | undefined][] = [
    ['$CHROMIUM_PATH', env.CHROMIUM_PATH],
    ['system Chromium', '/usr/bin/chromium'],
    ["Playwright's own Chromium", safePlaywrightPath()],
  ];
  for (const [, path] of candidates) if (path && existsSync(path)) return path;
  if (env.CHROMIUM_PATH) {
    throw new ChromiumNotFoundError(`CHROMIUM_PATH is set to "${env.CHROMIUM_PATH}", but no file is there.`);
  }
  throw new ChromiumNotFoundError(
    'No Chromium found for the browser tests. Install one: on Debian or Ubuntu run ' +
      '"sudo apt-get install -y chromium"; elsewhere install Chrome or Chromium and set ' +
      'CHROMIUM_PATH=/path/to/chrome.',
  );
}

function safePlaywrightPath(): string | undefined {
  try {
    return chromium.executablePath();
  } catch {
    return undefined;
  }
}
