/**
 * A minimal POSIX ustar writer (and a reader, for checking what was written): regular files in one
 * folder, which is all a run's output is. Spec: the ustar interchange format of POSIX (IEEE Std
 * 1003.1, the pax utility): 512-byte header blocks, octal numbers, data padded to 512 bytes, two zero
 * blocks at the end. `tar -xf` on Linux, macOS and Windows 10+ opens it.
 */

export class TarNameError extends Error {
  override readonly name = 'TarNameError';
}

export interface TarEntry {
  /** A path inside the archive, such as "whetstone-lora/adapter_config.json". */
  path: string;
  data: Uint8Array;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function writeString(header: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  if (bytes.length > length) throw new TarNameError(`"${value}" is longer than ${length} bytes.`);
  header.set(bytes, offset);
}

/** A zero-padded octal number followed by NUL, filling `length` bytes. */
function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  writeString(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** Splits a path into ustar's prefix (up to 155 bytes) and name (up to 100 bytes) at a slash. */
function splitPath(path: string): { prefix: string; name: string } {
  if (encoder.encode(path).length <= 100) return { prefix: '', name: path };
  const slash = path.lastIndexOf('/');
  const split = { prefix: path.slice(0, slash), name: path.slice(slash + 1) };
  if (slash < 0 || encoder.encode(split.name).length > 100 || encoder.encode(split.prefix).length > 155) {
    throw new TarNameError(
      `The path "${path}" is too long for a tar header; shorten the file or folder name.`,
    );
  }
  return split;
}

function header(entry: TarEntry, mtimeSeconds: number): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const { prefix, name } = splitPath(entry.path);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, entry.data.length);
  writeOctal(block, 136, 12, Math.floor(mtimeSeconds));
  block.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  writeString(block, 156, 1, '0');
  writeString(block, 257, 6, 'ustar\0');
  writeString(block, 263, 2, '00');
  writeString(block, 345, 155, prefix);
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  writeString(block, 148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

export function writeTar(entries: TarEntry[], mtimeSeconds = Date.now() / 1000): Uint8Array {
  const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;
  const size = entries.reduce((n, e) => n + BLOCK + padded(e.data.length), 0) + 2 * BLOCK;
  const out = new Uint8Array(size);
  let at = 0;
  for (const entry of entries) {
    out.set(header(entry, mtimeSeconds), at);
    at += BLOCK;
    out.set(entry.data, at);
    at += padded(entry.data.length);
  }
  return out;
}

/** The files of an archive `writeTar` made (regular files only). */
export function readTar(bytes: Uint8Array): TarEntry[] {
  const decoder = new TextDecoder();
  const text = (from: number, length: number) =>
    decoder.decode(bytes.subarray(from, from + length)).replace(/\0.*$/s, '');
  const entries: TarEntry[] = [];
  for (let at = 0; at + BLOCK <= bytes.length; ) {
    if (bytes.subarray(at, at + BLOCK).every((b) => b === 0)) break;
    const name = text(at, 100);
    const prefix = text(at + 345, 155);
    const size = Number.parseInt(text(at + 124, 12), 8);
    const data = bytes.slice(at + BLOCK, at + BLOCK + size);
    entries.push({ path: prefix ? `${prefix}/${name}` : name, data });
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}
