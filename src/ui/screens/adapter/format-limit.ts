/**
 * How the adapter screen writes limit values: byte limits in binary units ("1.00 GiB") for reading,
 * and every limit as its exact integer, because the exact value is what a kernel must fit within.
 */

// The limits measured in bytes; the rest are counts. Listed, not guessed from names, because
// names mislead (maxComputeWorkgroupSizeX is a count of invocations, not a size in bytes).
const byteLimits = new Set([
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxUniformBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'minStorageBufferOffsetAlignment',
  'minUniformBufferOffsetAlignment',
  'maxColorAttachmentBytesPerSample',
]);

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const exactFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function isByteLimit(name: string): boolean {
  return byteLimits.has(name);
}

/** 1073741824 → "1.00 GiB"; below 1 KiB, whole bytes ("256 B"). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  // Compare the rounded value, so 1048575 reads "1.00 MiB" rather than "1024.00 KiB".
  while (unit < units.length - 1 && Number(value.toFixed(2)) >= 1024) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(2)} ${units[unit]}`;
}

/** 134217728 → "134,217,728". */
export function formatExact(value: number): string {
  return exactFormat.format(value);
}
