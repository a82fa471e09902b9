/**
 * Reads the tensors of a PyTorch checkpoint file (pytorch_model.bin or one of its shards) without
 * torch, through the ModelFiles byte-range interface, so a large file is never read whole:
 * - zip files (torch.save since torch 1.6): <archive>/data.pkl names the tensors, and each storage is
 *   the zip entry <archive>/data/<key>; the zip's directory is read with unzipit;
 * - legacy files (torch < 1.6, most BERT-era checkpoints on the Hub): pickles of a magic number, the
 *   protocol version and the system info, then the state dict, then the storage keys, followed by each
 *   storage as an int64 element count and its bytes, in key order.
 * The pickles go through torch-pickle.ts, which loads tensors only. A tensor may share its storage
 * (tied weights), start inside it, or be strided (a saved transpose); each is read as torch would give
 * it, in row-major order. Weights are converted to f32 as safetensors weights are.
 */
import { type Reader, unzipRaw, type ZipEntry } from 'unzipit';
import type { ModelFiles } from './model-files';
import { type SafetensorsDType, toFloat32 } from './safetensors';
import {
  isPickledTensor,
  type PickledTensor,
  type TorchDType,
  TorchPickleError,
  TruncatedPickleError,
  torchBytesPerElement,
  unpickle,
} from './torch-pickle';

export class TorchWeightsError extends Error {
  override readonly name = 'TorchWeightsError';
}

export interface TorchTensor {
  name: string;
  dtype: TorchDType;
  shape: number[];
  file: string;
}

export interface TorchWeightsFile {
  tensors: TorchTensor[];
  /** One tensor as f32, row-major. */
  read(name: string): Promise<Float32Array>;
}

/** Where a storage's bytes are: an absolute byte range of the file. */
type StorageBytes = (key: string) => Promise<Uint8Array>;

const legacyMagic = 0x1950a86a20f9469cfc6cn;
const legacyProtocol = 1001;
const zipSignature = [0x50, 0x4b, 0x03, 0x04];
const legacySignature = [0x80, 0x02, 0x8a, 0x0a];

export interface OpenTorchWeightsOptions {
  /** Bytes read first from a legacy file for its pickles (more is read when they run longer). */
  firstReadBytes?: number;
}

export async function openTorchWeights(
  files: ModelFiles,
  file: string,
  options: OpenTorchWeightsOptions = {},
): Promise<TorchWeightsFile> {
  const size = files.size(file);
  const head = await files.read(file, 0, Math.min(size, 4));
  const fail = (why: string) => new TorchWeightsError(`${files.source}/${file} cannot be read: ${why}`);
  const isZip = zipSignature.every((byte, i) => head[i] === byte);
  // Every legacy file starts with the pickled magic number: PROTO 2, LONG1 of 10 bytes.
  if (!isZip && !legacySignature.every((byte, i) => head[i] === byte))
    throw fail('it is neither a zip archive nor a legacy torch.save file; is it a PyTorch checkpoint?');
  try {
    const layout = isZip
      ? await zipLayout(files, file)
      : await legacyLayout(files, file, size, options.firstReadBytes ?? 1 << 20);
    return indexTensors(layout.stateDict, layout.storageBytes, file, fail);
  } catch (error) {
    if (error instanceof TorchPickleError) throw fail(`${error.message}`);
    throw error;
  }
}

interface Layout {
  stateDict: unknown;
  storageBytes: StorageBytes;
}

async function zipLayout(files: ModelFiles, file: string): Promise<Layout> {
  const reader: Reader = {
    getLength: async () => files.size(file),
    // unzipit hands out an entry's `.buffer`, so it gets arrays that own their buffer: a Node Buffer
    // or a subarray is a view into a larger one (and Buffer.slice does not copy, hence the constructor).
    read: async (offset, length) => {
      const bytes = await files.read(file, offset, offset + length);
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      return whole && bytes.buffer instanceof ArrayBuffer
        ? (bytes as Uint8Array<ArrayBuffer>)
        : new Uint8Array(bytes);
    },
  };
  let entries: ZipEntry[];
  try {
    ({ entries } = await unzipRaw(reader));
  } catch (error) {
    throw new TorchWeightsError(`${files.source}/${file} is not a readable zip archive: ${String(error)}`);
  }
  const pickle = entries.find((entry) => /^[^/]+\/data\.pkl$/.test(entry.name));
  if (!pickle)
    throw new TorchWeightsError(
      `${files.source}/${file} is a zip archive without <archive>/data.pkl, so not a torch.save file.`,
    );
  const prefix = pickle.name.slice(0, -'data.pkl'.length);
  const byteOrder = entries.find((entry) => entry.name === `${prefix}byteorder`);
  if (byteOrder && (await byteOrder.text()).trim() !== 'little')
    throw new TorchWeightsError(
      `${files.source}/${file} was saved big-endian; re-save it on a little-endian machine.`,
    );
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const { value } = unpickle(new Uint8Array(await pickle.arrayBuffer()));
  return {
    stateDict: value,
    async storageBytes(key) {
      const entry = byName.get(`${prefix}data/${key}`);
      if (!entry) throw new TorchWeightsError(`${files.source}/${file} has no storage ${prefix}data/${key}.`);
      return new Uint8Array(await entry.arrayBuffer());
    },
  };
}

/** Reads pickles from the start of the file, reading more of it whenever one runs past what was read. */
async function legacyLayout(
  files: ModelFiles,
  file: string,
  size: number,
  firstReadBytes: number,
): Promise<Layout> {
  for (let prefixBytes = Math.min(size, firstReadBytes); ; prefixBytes = Math.min(size, prefixBytes * 4)) {
    const bytes = await files.read(file, 0, prefixBytes);
    try {
      return legacyFromPrefix(files, file, bytes);
    } catch (error) {
      if (!(error instanceof TruncatedPickleError) || prefixBytes >= size) throw error;
    }
  }
}

function legacyFromPrefix(files: ModelFiles, file: string, bytes: Uint8Array): Layout {
  const magic = unpickle(bytes, 0);
  if (magic.value !== legacyMagic)
    throw new TorchWeightsError(
      `${files.source}/${file} is neither a zip archive nor a legacy torch.save file (no magic number); is it a PyTorch checkpoint?`,
    );
  const protocol = unpickle(bytes, magic.end);
  if (protocol.value !== legacyProtocol)
    throw new TorchWeightsError(
      `${files.source}/${file} has torch serialization protocol ${String(protocol.value)}, not ${legacyProtocol}.`,
    );
  const systemInfo = unpickle(bytes, protocol.end);
  if (systemInfo.value instanceof Map && systemInfo.value.get('little_endian') === false)
    throw new TorchWeightsError(
      `${files.source}/${file} was saved big-endian; re-save it on a little-endian machine.`,
    );
  const stateDict = unpickle(bytes, systemInfo.end);
  const keys = unpickle(bytes, stateDict.end);
  if (!Array.isArray(keys.value) || !keys.value.every((key) => typeof key === 'string'))
    throw new TorchWeightsError(`${files.source}/${file}: the list of storage keys is missing.`);
  // Each storage's element count and dtype come from the tensors that use it.
  const storages = new Map<string, { numel: number; dtype: TorchDType }>();
  for (const tensor of pickledTensors(stateDict.value)) storages.set(tensor.storage.key, tensor.storage);
  const ranges = new Map<string, { start: number; numel: number; bytes: number }>();
  let at = keys.end;
  for (const key of keys.value as string[]) {
    const storage = storages.get(key);
    if (!storage)
      throw new TorchWeightsError(`${files.source}/${file}: storage ${key} is listed but no tensor uses it.`);
    const byteCount = storage.numel * torchBytesPerElement[storage.dtype];
    ranges.set(key, { start: at, numel: storage.numel, bytes: byteCount });
    at += 8 + byteCount;
  }
  if (at > files.size(file))
    throw new TorchWeightsError(
      `${files.source}/${file} is truncated: its storages need ${at} bytes but it has ${files.size(file)}.`,
    );
  return {
    stateDict: stateDict.value,
    async storageBytes(key) {
      const range = ranges.get(key);
      if (!range) throw new TorchWeightsError(`${files.source}/${file} has no storage ${key}.`);
      const bytes = await files.read(file, range.start, range.start + 8 + range.bytes);
      const count = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true));
      if (count !== range.numel)
        throw new TorchWeightsError(
          `${files.source}/${file}: storage ${key} holds ${count} elements where its tensors expect ${range.numel}; the file is damaged.`,
        );
      return bytes.subarray(8);
    },
  };
}

function* pickledTensors(stateDict: unknown): Generator<PickledTensor> {
  if (stateDict instanceof Map)
    for (const value of stateDict.values()) if (isPickledTensor(value)) yield value;
}

function indexTensors(
  stateDict: unknown,
  storageBytes: StorageBytes,
  file: string,
  fail: (why: string) => TorchWeightsError,
): TorchWeightsFile {
  if (!(stateDict instanceof Map))
    throw fail('it does not hold a state dict (a dict of tensors); save model.state_dict(), not the model.');
  const byName = new Map<string, PickledTensor>();
  for (const [name, value] of stateDict) {
    if (typeof name !== 'string') throw fail('a state dict key is not a string.');
    if (!isPickledTensor(value)) continue; // non-tensor extras (e.g. a step count) are not weights
    byName.set(name, value);
  }
  return {
    tensors: [...byName].map(([name, t]) => ({ name, dtype: t.storage.dtype, shape: t.shape, file })),
    async read(name) {
      const tensor = byName.get(name);
      if (!tensor) throw fail(`it has no tensor ${name}.`);
      return materialize(name, tensor, await storageBytes(tensor.storage.key), file, fail);
    },
  };
}

const floatTypes = new Set<TorchDType>(['F32', 'F16', 'BF16']);

/** The tensor's elements in row-major order, as f32, from its storage's bytes. */
function materialize(
  name: string,
  tensor: PickledTensor,
  storage: Uint8Array,
  file: string,
  fail: (why: string) => TorchWeightsError,
): Float32Array {
  const { dtype, numel } = tensor.storage;
  if (!floatTypes.has(dtype))
    throw fail(`tensor ${name} is ${dtype}; model weights must be F32, F16 or BF16.`);
  const size = torchBytesPerElement[dtype];
  if (storage.byteLength < numel * size)
    throw fail(
      `storage ${tensor.storage.key} has ${storage.byteLength} bytes, less than its ${numel} elements need.`,
    );
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  // The furthest element the tensor reaches must lie inside the storage.
  const last =
    tensor.offset + tensor.shape.reduce((sum, dim, i) => sum + (dim - 1) * (tensor.stride[i] ?? 0), 0);
  if (count > 0 && (tensor.offset < 0 || last >= numel))
    throw fail(`tensor ${name} reaches element ${last} of a storage of ${numel}.`);
  const span = count === 0 ? 0 : last - tensor.offset + 1;
  const values = toFloat32(
    { name, dtype: dtype as SafetensorsDType, shape: [span], begin: 0, end: 0 },
    storage.subarray(tensor.offset * size, (tensor.offset + span) * size),
    file,
  );
  if (span === count && isRowMajor(tensor.shape, tensor.stride)) return values;
  return gather(values, tensor.shape, tensor.stride, count);
}

function isRowMajor(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if ((shape[i] as number) > 1 && stride[i] !== expected) return false;
    expected *= shape[i] as number;
  }
  return true;
}

/** Row-major copy of a strided view (offsets already relative to its first element). */
function gather(values: Float32Array, shape: number[], stride: number[], count: number): Float32Array {
  const out = new Float32Array(count);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = 0;
    for (let d = 0; d < shape.length; d++) at += (index[d] as number) * (stride[d] as number);
    out[i] = values[at] as number;
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (shape[d] as number)) break;
      index[d] = 0;
    }
  }
  return out;
}
