/**
 * One GPU runtime per test file, in whichever environment the test runs: Dawn in Node,
 * `navigator.gpu` in Chromium. See vitest.config.ts for which tests run where.
 */
import { acquireDevice } from '../device/acquire-device';
import { createRuntime, type Runtime } from '../runtime';

let shared: Promise<Runtime> | undefined;

export function testRuntime(): Promise<Runtime> {
  shared ??= acquireDevice({ label: 'test' }).then(createRuntime);
  return shared;
}
