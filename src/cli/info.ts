/** `whetstone info [--json]`: what WebGPU reports about this machine's adapter. */
import { probeGpu } from '../train/gpu-info';

export async function runInfo(options: { json: boolean }): Promise<number> {
  const probe = await probeGpu();
  if (!probe.ok) {
    process.stderr.write(`whetstone: ${probe.error.name}: ${probe.error.message}\n`);
    return 1;
  }
  const r = probe.report;
  if (options.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  }
  const lines = [
    `vendor        ${r.vendor || 'not reported'}`,
    `architecture  ${r.architecture || 'not reported'}`,
    `fallback      ${r.isFallbackAdapter ? 'yes (software adapter: expect slow training)' : 'no'}`,
    `features      ${r.features.join(', ')}`,
    ...Object.entries(r.limits).map(([name, value]) => `${name.padEnd(34)}${value}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
