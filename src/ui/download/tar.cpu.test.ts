import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTar, TarNameError, writeTar } from './tar';

const entries = [
  { path: 'run/adapter_config.json', data: new TextEncoder().encode('{"r": 8}') },
  { path: 'run/empty.bin', data: new Uint8Array(0) },
  { path: 'run/block.bin', data: new Uint8Array(512).map((_, i) => i % 251) },
  { path: `${'long-folder-name-'.repeat(5)}/${'f'.repeat(90)}.txt`, data: new Uint8Array([1, 2, 3]) },
];

describe('tar', () => {
  it('reads back what it wrote, in 512-byte blocks', () => {
    const tar = writeTar(entries, 1_700_000_000);
    expect(tar.length % 512).toBe(0);
    expect(readTar(tar)).toEqual(entries);
  });

  it('refuses a name no header can hold', () => {
    expect(() => writeTar([{ path: 'x'.repeat(101), data: new Uint8Array() }])).toThrow(TarNameError);
  });

  // The system tar (on every Linux and macOS) is the independent check of the headers and checksums.
  it('is read by the system tar', () => {
    const dir = mkdtempSync(join(tmpdir(), 'whetstone-tar-'));
    writeFileSync(join(dir, 'out.tar'), writeTar(entries, 1_700_000_000));
    execFileSync('tar', ['-xf', 'out.tar'], { cwd: dir });
    for (const entry of entries)
      expect(new Uint8Array(readFileSync(join(dir, entry.path)))).toEqual(entry.data);
  });
});
