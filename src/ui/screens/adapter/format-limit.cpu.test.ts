import { describe, expect, it } from 'vitest';
import { formatBytes, formatExact, isByteLimit } from './format-limit';

describe('formatBytes', () => {
  it('writes whole bytes below 1 KiB', () => expect(formatBytes(256)).toBe('256 B'));
  it('writes binary units with two decimals', () => {
    expect(formatBytes(1024)).toBe('1.00 KiB');
    expect(formatBytes(16384)).toBe('16.00 KiB');
    expect(formatBytes(134217728)).toBe('128.00 MiB');
    expect(formatBytes(2 ** 30)).toBe('1.00 GiB');
    expect(formatBytes(2 ** 32 - 4)).toBe('4.00 GiB');
  });
  it('moves to the next unit when rounding reaches 1024', () =>
    expect(formatBytes(1048575)).toBe('1.00 MiB'));
});

describe('formatExact and isByteLimit', () => {
  it('groups digits', () => expect(formatExact(4294967292)).toBe('4,294,967,292'));
  it('knows byte limits from counts', () => {
    expect(isByteLimit('maxStorageBufferBindingSize')).toBe(true);
    expect(isByteLimit('maxComputeWorkgroupSizeX')).toBe(false);
  });
});
