/**
 * The byte reading under the restricted unpickler (torch-pickle.ts), and its errors: a bounds-checked
 * cursor over the pickle's bytes, whose running past the end is a TruncatedPickleError (so a caller can
 * read more of the file and try again), and Python's two's-complement little-endian longs.
 */
export class TorchPickleError extends Error {
  override readonly name = 'TorchPickleError';
}

/** The pickle ended before STOP: the caller may read more of the file and try again. */
export class TruncatedPickleError extends TorchPickleError {}

/** Reads bytes with bounds checks; running past the end is a TruncatedPickleError. */
export class Cursor {
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    public at: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  take(count: number): Uint8Array {
    if (this.at + count > this.bytes.byteLength)
      throw new TruncatedPickleError(`the pickle ends early (byte ${this.bytes.byteLength}).`);
    const out = this.bytes.subarray(this.at, this.at + count);
    this.at += count;
    return out;
  }
  u8(): number {
    return this.take(1)[0] as number;
  }
  u16(): number {
    const at = this.take(2).byteOffset - this.bytes.byteOffset;
    return this.view.getUint16(at, true);
  }
  u32(): number {
    const at = this.take(4).byteOffset - this.bytes.byteOffset;
    return this.view.getUint32(at, true);
  }
  i32(): number {
    const at = this.take(4).byteOffset - this.bytes.byteOffset;
    return this.view.getInt32(at, true);
  }
  u64(): number {
    const at = this.take(8).byteOffset - this.bytes.byteOffset;
    return Number(this.view.getBigUint64(at, true));
  }
  f64be(): number {
    const at = this.take(8).byteOffset - this.bytes.byteOffset;
    return this.view.getFloat64(at, false);
  }
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.at);
    if (end < 0) throw new TruncatedPickleError('the pickle ends inside a line.');
    const text = new TextDecoder('latin1').decode(this.bytes.subarray(this.at, end));
    this.at = end + 1;
    return text;
  }
  utf8(count: number): string {
    return new TextDecoder().decode(this.take(count));
  }
}

/** Python's two's-complement little-endian long. */
export function decodeLong(bytes: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] as number);
  if (bytes.length > 0 && (bytes[bytes.length - 1] as number) & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}
