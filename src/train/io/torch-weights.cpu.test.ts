/**
 * PyTorch checkpoint files, read without torch: the two fixtures were written by CPython's own pickler
 * with torch.save's layout (fixtures/make-torch-fixtures.py), one as a zip archive and one in the legacy
 * format of torch < 1.6. Expected values are computed here from the generator's documented formula.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesFromMemory, type ModelFiles } from './model-files';
import { TorchPickleError, unpickle } from './torch-pickle';
import { openTorchWeights } from './torch-weights';

const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', name)));
/** Element k of storage i, as make-torch-fixtures.py writes it. */
const value = (i: number, k: number) => (((((7 * i + 3 * k) % 61) + 61) % 61) - 30) / 8;
const storage = (i: number, count: number) => Array.from({ length: count }, (_, k) => value(i, k));

/** Counts the bytes read, to check that a file is not read whole. */
function counting(files: ModelFiles): { files: ModelFiles; bytesRead: () => number } {
  let read = 0;
  return {
    files: {
      ...files,
      async read(name, start, end) {
        const bytes = await files.read(name, start, end);
        read += bytes.byteLength;
        return bytes;
      },
    },
    bytesRead: () => read,
  };
}

describe.each([
  ['zip', 'torch-zip.bin'],
  ['legacy', 'torch-legacy.bin'],
])('%s torch.save files', (_, name) => {
  const open = (firstReadBytes?: number) =>
    openTorchWeights(filesFromMemory({ 'pytorch_model.bin': fixture(name) }, 'model'), 'pytorch_model.bin', {
      ...(firstReadBytes === undefined ? {} : { firstReadBytes }),
    });

  it('lists every tensor with its dtype and shape, in the file order', async () => {
    const weights = await open();
    expect(weights.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['embed.weight', 'F32', [5, 3]],
      ['tied.weight', 'F32', [5, 3]],
      ['half.weight', 'F16', [7]],
      ['bf16.weight', 'BF16', [2, 3]],
      ['view.first', 'F32', [4]],
      ['view.rest', 'F32', [2, 3]],
      ['transposed.weight', 'F32', [3, 2]],
      ['ids.position_ids', 'I64', [1, 4]],
    ]);
  });

  it('reads f32, f16 and bf16 tensors, shared storages, offsets and strides as torch gives them', async () => {
    const weights = await open();
    const read = async (tensor: string) => [...(await weights.read(tensor))];
    expect(await read('embed.weight')).toEqual(storage(0, 15));
    expect(await read('tied.weight')).toEqual(storage(0, 15));
    expect(await read('half.weight')).toEqual(storage(1, 7));
    expect(await read('bf16.weight')).toEqual(storage(2, 6));
    expect(await read('view.first')).toEqual(storage(3, 4));
    expect(await read('view.rest')).toEqual(storage(3, 10).slice(4));
    // Shape [3, 2] with stride [1, 3]: element (r, c) is storage element r + 3c.
    const s = storage(4, 6);
    expect(await read('transposed.weight')).toEqual([0, 1, 2].flatMap((r) => [s[r + 0], s[r + 3]]));
  });

  it('refuses integer tensors as weights, by name', async () => {
    await expect((await open()).read('ids.position_ids')).rejects.toThrow(
      /ids\.position_ids is I64; model weights must be F32, F16 or BF16/,
    );
  });

  it('reads more of the file when the pickles run past the first read', async () => {
    const weights = await open(16);
    expect([...(await weights.read('view.rest'))]).toEqual(storage(3, 10).slice(4));
  });
});

describe('torch.save files: what goes wrong', () => {
  it('reads the zip directory and one storage, not the whole file', async () => {
    const { files, bytesRead } = counting(filesFromMemory({ 'w.bin': fixture('torch-zip.bin') }));
    const weights = await openTorchWeights(files, 'w.bin');
    const before = bytesRead();
    await weights.read('half.weight');
    // 7 f16 values (14 bytes) plus the local zip header: far less than the other storages.
    expect(bytesRead() - before).toBeLessThan(200);
  });

  it('reads a file handed out as a Node Buffer, a view into a larger pool', async () => {
    for (const name of ['torch-zip.bin', 'torch-legacy.bin']) {
      const bytes = fixture(name);
      const pool = Buffer.alloc(bytes.byteLength + 13, 0xee);
      pool.set(bytes, 7);
      const files = filesFromMemory({ 'w.bin': pool.subarray(7, 7 + bytes.byteLength) });
      const weights = await openTorchWeights(files, 'w.bin');
      expect([...(await weights.read('half.weight'))], name).toEqual(storage(1, 7));
    }
  });

  it('refuses a pickle that would call anything but the state-dict globals, naming it', () => {
    // cos\nsystem\n ('echo',) R . : os.system('echo') if torch.load ran it.
    const evil = new Uint8Array([
      0x80,
      0x02,
      ...new TextEncoder().encode('cos\nsystem\n'),
      0x58,
      4,
      0,
      0,
      0,
      ...new TextEncoder().encode('echo'),
      0x85,
      0x52,
      0x2e,
    ]);
    expect(() => unpickle(evil)).toThrow(TorchPickleError);
    expect(() => unpickle(evil)).toThrow(/os\.system.*does not run the file's code/);
  });

  it('says a truncated legacy file is truncated', async () => {
    const bytes = fixture('torch-legacy.bin');
    const files = filesFromMemory({ 'pytorch_model.bin': bytes.subarray(0, bytes.byteLength - 10) }, 'cut');
    await expect(openTorchWeights(files, 'pytorch_model.bin')).rejects.toThrow(
      /cut\/pytorch_model\.bin is truncated/,
    );
  });

  it('says a file that is neither format is not a PyTorch checkpoint', async () => {
    const files = filesFromMemory(
      { 'pytorch_model.bin': new Uint8Array([0x80, 0x02, 0x4b, 7, 0x2e]) },
      'odd',
    );
    await expect(openTorchWeights(files, 'pytorch_model.bin')).rejects.toThrow(
      /odd\/pytorch_model\.bin cannot be read: it is neither a zip archive nor a legacy torch\.save file/,
    );
  });

  it('says which storage a damaged legacy file miscounts', async () => {
    const bytes = fixture('torch-legacy.bin').slice();
    // Storage keys sort "…82048" last: position_ids, 4 int64s after its 8-byte element count.
    new DataView(bytes.buffer).setBigInt64(bytes.byteLength - 4 * 8 - 8, 99n, true);
    const damaged = await openTorchWeights(filesFromMemory({ 'w.bin': bytes }, 'dmg'), 'w.bin');
    await expect(damaged.read('ids.position_ids')).rejects.toThrow(
      /dmg\/w\.bin: storage 94012345682048 holds 99 elements where its tensors expect 4/,
    );
  });
});
