/**
 * Grids for element-wise kernels: a 1-D count folded into 2-D when it passes the per-dimension limit.
 * Kernels recover the linear index as (wg.y * groups.x + wg.x) * WORKGROUP + lid.
 */
import type { Workgroups } from './dispatch';
import type { Runtime } from './runtime';

export function grid1d(runtime: Runtime, count: number, workgroupSize: number): Workgroups {
  const groups = Math.max(1, Math.ceil(count / workgroupSize));
  const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= limit) return [groups, 1, 1];
  const rows = Math.ceil(groups / limit);
  return [Math.ceil(groups / rows), rows, 1];
}
