/**
 * The adapter screen, end to end: what it shows must be what WebGPU itself reports in the same page
 * (so nothing is hard-coded). Without WebGPU, see studio-edges.spec.ts.
 */
import { expect, type Page, test } from '@playwright/test';

/** What the page's own WebGPU reports, asked the way `acquireDevice()` asks. */
function readGpuInPage(page: Page) {
  return page.evaluate(async () => {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null in the test page');
    const device = await adapter.requestDevice({
      requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize },
    });
    const result = {
      vendor: adapter.info.vendor,
      architecture: adapter.info.architecture,
      isFallbackAdapter: Boolean((adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
      timestampQuery: adapter.features.has('timestamp-query'),
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    };
    device.destroy();
    return result;
  });
}

test('shows the adapter WebGPU reports', async ({ page }, testInfo) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Whetstone');
  const panel = page.getByTestId('adapter-panel');
  await expect(panel).toBeVisible();

  const expected = await readGpuInPage(page);
  expect(expected.vendor).not.toBe('');
  expect(expected.architecture).not.toBe('');
  await expect(panel.getByTestId('adapter-vendor')).toHaveText(expected.vendor);
  await expect(panel.getByTestId('adapter-architecture')).toHaveText(expected.architecture);
  await expect(panel.getByTestId('adapter-fallback')).toHaveText(expected.isFallbackAdapter ? /^yes/ : 'no');
  await expect(panel.getByTestId('feature-timestamp-query')).toHaveText(
    expected.timestampQuery ? 'yes' : 'no',
  );

  const limitRow = panel.getByTestId('limit-maxStorageBufferBindingSize');
  const shown = limitRow.locator('data');
  await expect(shown).toHaveAttribute('value', String(expected.maxStorageBufferBindingSize));
  const shownDigits = (await shown.textContent())?.replace(/\D/g, '');
  expect(shownDigits).toBe(String(expected.maxStorageBufferBindingSize));
  await expect(limitRow).toContainText(/\d+\.\d\d [KMGT]iB/);

  const screenshot = await page.screenshot({
    path: testInfo.outputPath('adapter-panel.png'),
    fullPage: true,
  });
  await testInfo.attach('adapter-panel', { body: screenshot, contentType: 'image/png' });
});
