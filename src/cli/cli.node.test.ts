import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { acquireDevice } from '../gpu/device/acquire-device';

const bin = new URL('../../bin/whetstone.mjs', import.meta.url).pathname;

/** Runs the CLI as a user would: a fresh process with none of our GPU environment variables set. */
function whetstone(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 120_000 });
}

describe('whetstone CLI', () => {
  it('info --json prints only the adapter report, with no environment variables set', async () => {
    const run = whetstone('info', '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    const gpu = await acquireDevice();
    expect(report.vendor).toBe(gpu.report.vendor);
    expect(report.limits.maxStorageBufferBindingSize).toBe(gpu.device.limits.maxStorageBufferBindingSize);
    gpu.destroy();
  });

  it('names an unknown command and exits 2', () => {
    const run = whetstone('frobnicate');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/unknown command "frobnicate"/);
  });
});
