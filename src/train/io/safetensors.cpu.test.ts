import { describe, expect, it } from 'vitest';
import { parseSafetensorsHeader, SafetensorsError, toFloat32, writeSafetensors } from './safetensors';

const tensors = [
  { name: 'a.weight', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]) },
  { name: 'b', shape: [1], data: Float32Array.from([42]) },
];

function fileWith(header: object, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('safetensors', () => {
  it('round-trips F32 tensors with an 8-byte-aligned data section', () => {
    const bytes = writeSafetensors(tensors, { format: 'pt' });
    const entries = parseSafetensorsHeader('m.safetensors', bytes);
    expect(entries.map((e) => [e.name, e.shape, e.dtype])).toEqual([
      ['a.weight', [2, 3], 'F32'],
      ['b', [1], 'F32'],
    ]);
    expect((entries[0] as { begin: number }).begin % 8).toBe(0);
    for (const [i, entry] of entries.entries()) {
      expect(toFloat32(entry, bytes.subarray(entry.begin, entry.end), 'm')).toEqual(tensors[i]?.data);
    }
  });

  it('reads F16 and BF16', () => {
    const bytes = new Uint8Array([0x80, 0x3f, 0x40, 0xc0]); // BF16 1.0 and -3.0
    const entry = { name: 'x', dtype: 'BF16' as const, shape: [2], begin: 0, end: 4 };
    expect(toFloat32(entry, bytes, 'f')).toEqual(Float32Array.from([1, -3]));
    const half = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b]); // F16 1.0, -2.0 and 65504
    const halfEntry = { name: 'h', dtype: 'F16' as const, shape: [3], begin: 0, end: 6 };
    expect(toFloat32(halfEntry, half, 'f')).toEqual(Float32Array.from([1, -2, 65504]));
  });

  it('writes F16 and BF16 rounded to nearest even, and reads back what it wrote', () => {
    const data = Float32Array.from([1, -3, 0.1, 65504, 1 + 2 ** -9]);
    const bytes = writeSafetensors([
      { name: 'h', shape: [5], data, dtype: 'F16' },
      { name: 'b', shape: [5], data, dtype: 'BF16' },
    ]);
    const [h, b] = parseSafetensorsHeader('m', bytes);
    const read = (e: typeof h) => Array.from(toFloat32(e!, bytes.subarray(e!.begin, e!.end), 'm'));
    expect(h?.dtype).toBe('F16');
    expect(read(h)).toEqual([1, -3, 0.0999755859375, 65504, 1 + 2 ** -9]);
    // BF16's step at 1 is 2⁻⁷: 1 + 2⁻⁹ is a quarter step up and rounds to 1; 65504 rounds to 65536.
    expect(read(b)).toEqual([1, -3, 0.10009765625, 65536, 1]);
  });

  it('names the file and the tensor for each kind of damage', () => {
    const whole = writeSafetensors(tensors);
    expect(() =>
      parseSafetensorsHeader('m.safetensors', whole.subarray(0, whole.length - 4), whole.length - 4),
    ).toThrow(/m\.safetensors: tensor b ends at byte \d+ but the file has \d+; it is truncated/);
    expect(() => parseSafetensorsHeader('m.safetensors', whole.subarray(0, 5))).toThrow(SafetensorsError);
    const wrongSize = fileWith({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8);
    expect(() => parseSafetensorsHeader('x', wrongSize)).toThrow(
      /tensor w \[3\] F32 needs 12 bytes but has 8/,
    );
    const overlap = fileWith(
      {
        p: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        q: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      12,
    );
    expect(() => parseSafetensorsHeader('x', overlap)).toThrow(/p and q overlap/);
    const badJson = fileWith({}, 0);
    badJson[8] = 0x7b + 1;
    expect(() => parseSafetensorsHeader('x', badJson)).toThrow(/not valid JSON/);
  });
});
