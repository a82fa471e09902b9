/**
 * A restricted unpickler for PyTorch state dicts (pytorch_model.bin), in the spirit of
 * torch.load(weights_only=True): it runs the pickle machine for the opcodes that Python's pickler writes
 * for dicts, lists, tuples, strings, numbers and tensors, and it resolves only the handful of globals a
 * state dict needs (collections.OrderedDict, torch's storage types, _rebuild_tensor_v2,
 * _rebuild_parameter). Any other global or opcode is a TorchPickleError naming it, so a file that would
 * run code when torch.load unpickles it is refused instead. Nothing here calls into the file's objects.
 *
 * Python values become plain JavaScript: int → number (bigint past 2^53), str → string, tuple and list
 * → array, dict and OrderedDict → Map, None → null. A storage reference (the BINPERSID tuple
 * ('storage', type, key, location, numel[, view])) becomes a PickledStorage and a rebuilt tensor a
 * PickledTensor, which only describe where the bytes are; torch-weights.ts reads them.
 * (pickleparser on npm was tried and rejects the big int that starts every legacy torch file.)
 */

import { Cursor, decodeLong, TorchPickleError, TruncatedPickleError } from './pickle-cursor';

export { TorchPickleError, TruncatedPickleError };

export type TorchDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const torchBytesPerElement: Record<TorchDType, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const storageTypes: Record<string, TorchDType> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

export interface PickledStorage {
  /** The storage's name in the archive (zip: data/<key>) or its id (legacy files). */
  key: string;
  dtype: TorchDType;
  /** Elements in the storage. */
  numel: number;
}

export interface PickledTensor {
  kind: 'tensor';
  storage: PickledStorage;
  /** In elements, from the storage's start. */
  offset: number;
  shape: number[];
  stride: number[];
}

interface StorageType {
  kind: 'storage-type';
  dtype: TorchDType;
}

/** A callable global: what REDUCE does with it. */
interface Callable {
  kind: 'callable';
  name: string;
  call(args: unknown[]): unknown;
}

function asIntegers(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isInteger(v)))
    throw new TorchPickleError(`a tensor's ${what} is not a tuple of integers.`);
  return value as number[];
}

function rebuildTensor(args: unknown[]): PickledTensor {
  const [storage, offset, size, stride] = args;
  if (typeof storage !== 'object' || storage === null || !('key' in storage))
    throw new TorchPickleError('a tensor is rebuilt from something that is not a storage.');
  if (typeof offset !== 'number') throw new TorchPickleError("a tensor's storage offset is not an integer.");
  return {
    kind: 'tensor',
    storage: storage as PickledStorage,
    offset,
    shape: asIntegers(size, 'size'),
    stride: asIntegers(stride, 'stride'),
  };
}

function resolveGlobal(module: string, name: string): Callable | StorageType {
  if (module === 'collections' && name === 'OrderedDict')
    return { kind: 'callable', name, call: () => new Map() };
  if (module === 'torch._utils' && name === '_rebuild_tensor_v2')
    return { kind: 'callable', name, call: rebuildTensor };
  // A Parameter is its data for loading: requires_grad and hooks do not matter here.
  if (module === 'torch._utils' && name === '_rebuild_parameter')
    return { kind: 'callable', name, call: (args) => args[0] };
  const dtype = module === 'torch' ? storageTypes[name] : undefined;
  if (dtype) return { kind: 'storage-type', dtype };
  throw new TorchPickleError(
    `it refers to the Python object ${module}.${name}, which a file of weights does not need; Whetstone loads only tensors from pickles (as torch.load(weights_only=True) does) and does not run the file's code.`,
  );
}

function persistentLoad(pid: unknown): PickledStorage {
  if (!Array.isArray(pid) || pid[0] !== 'storage')
    throw new TorchPickleError(
      `it has a persistent id that is not a storage: ${String(Array.isArray(pid) ? pid[0] : pid)}.`,
    );
  const [, type, key, , numel, view] = pid as [string, StorageType, unknown, unknown, unknown, unknown];
  if (type?.kind !== 'storage-type') throw new TorchPickleError('a storage has no storage type.');
  if (typeof key !== 'string' || typeof numel !== 'number')
    throw new TorchPickleError('a storage reference lacks its key or size.');
  // Views of storages (legacy files of torch < 1.0) would need the root storage's layout.
  if (view !== undefined && view !== null)
    throw new TorchPickleError(
      'it uses storage views, from a torch older than 1.0; re-save it with a newer torch.',
    );
  return { key, dtype: type.dtype, numel };
}

/**
 * Unpickles one pickle that starts at `start`; returns the value and the byte after its STOP (legacy
 * files hold several pickles back to back).
 */
export function unpickle(bytes: Uint8Array, start = 0): { value: unknown; end: number } {
  const cursor = new Cursor(bytes, start);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= (marks.at(-1) as number)))
      throw new TorchPickleError(`the pickle pops an empty stack at byte ${cursor.at}.`);
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const from = marks.pop();
    if (from === undefined) throw new TorchPickleError(`the pickle has no MARK before byte ${cursor.at}.`);
    return stack.splice(from);
  };
  const top = (): unknown => {
    if (stack.length === 0)
      throw new TorchPickleError(`the pickle reads an empty stack at byte ${cursor.at}.`);
    return stack[stack.length - 1];
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map))
      throw new TorchPickleError('the pickle sets an item on something not a dict.');
    for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };
  const appendTo = (list: unknown, items: unknown[]) => {
    if (!Array.isArray(list)) throw new TorchPickleError('the pickle appends to something not a list.');
    list.push(...items);
  };
  const memoGet = (index: number) => {
    if (!memo.has(index)) throw new TorchPickleError(`the pickle reads memo ${index}, which was never set.`);
    stack.push(memo.get(index));
  };

  for (;;) {
    const at = cursor.at;
    const op = cursor.u8();
    switch (op) {
      case 0x80: // PROTO
        cursor.u8();
        break;
      case 0x95: // FRAME (protocol 4): a length hint only
        cursor.u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: cursor.at };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(cursor.i32());
        break;
      case 0x4b: // BININT1
        stack.push(cursor.u8());
        break;
      case 0x4d: // BININT2
        stack.push(cursor.u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(cursor.take(cursor.u8())));
        break;
      case 0x8b: // LONG4
        stack.push(decodeLong(cursor.take(cursor.u32())));
        break;
      case 0x49: {
        // INT (protocol 0; "01"/"00" are True/False)
        const text = cursor.line();
        stack.push(text === '01' ? true : text === '00' ? false : Number.parseInt(text, 10));
        break;
      }
      case 0x47: // BINFLOAT
        stack.push(cursor.f64be());
        break;
      case 0x58: // BINUNICODE
        stack.push(cursor.utf8(cursor.u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(cursor.utf8(cursor.u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(cursor.utf8(cursor.u64()));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str)
        stack.push(new TextDecoder('latin1').decode(cursor.take(cursor.u8())));
        break;
      case 0x54: // BINSTRING
        stack.push(new TextDecoder('latin1').decode(cursor.take(cursor.u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(cursor.take(cursor.u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(cursor.take(cursor.u32()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        appendTo(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const dict = new Map();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = cursor.line();
        stack.push(resolveGlobal(module, cursor.line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        stack.push(resolveGlobal(String(pop()), String(name)));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop() as Callable;
        if (callable?.kind !== 'callable' || !Array.isArray(args))
          throw new TorchPickleError(
            `the pickle calls something that is not a known function at byte ${at}.`,
          );
        stack.push(callable.call(args));
        break;
      }
      case 0x62: {
        // BUILD: a state dict's `_metadata` (module versions) is set this way; it is not needed.
        pop();
        if (!(top() instanceof Map))
          throw new TorchPickleError(
            `the pickle sets the state of an object at byte ${at}, which a state dict never does.`,
          );
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x71: // BINPUT
        memo.set(cursor.u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(cursor.u32(), top());
        break;
      case 0x70: // PUT
        memo.set(Number.parseInt(cursor.line(), 10), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        memoGet(cursor.u8());
        break;
      case 0x6a: // LONG_BINGET
        memoGet(cursor.u32());
        break;
      case 0x67: // GET
        memoGet(Number.parseInt(cursor.line(), 10));
        break;
      default:
        throw new TorchPickleError(
          `it uses pickle opcode 0x${op.toString(16)} at byte ${at}, which a PyTorch state dict does not use.`,
        );
    }
  }
}

export function isPickledTensor(value: unknown): value is PickledTensor {
  return typeof value === 'object' && value !== null && (value as PickledTensor).kind === 'tensor';
}
