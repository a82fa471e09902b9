/**
 * Launchers for the token embedding: the lookup (embedding.wgsl) and its deterministic scatter-add
 * backward (embedding-backward.wgsl), plus the host helper that turns a batch's ids into what they read.
 *
 * Shapes (N tokens, i.e. B·T; V vocabulary rows; C width):
 *   ids [N] (any leading shape) u32   table [V, C]   out [N, C]   dout [N, C]   dtable [V, C]
 *   rowStart [V + 1] u32   tokens [N] u32: the CSR index of ids (token positions grouped by id)
 * The forward's table may be 'f16' (a frozen embedding in half precision); rows come out f32.
 * `scale` multiplies every looked-up row, and the backward's gradient rows (Gemma's embed_scale, √C).
 * Contract: ids must lie in [0, V). `embeddingIndex` checks that on the host and throws; on the GPU an
 * id out of range reads as a zero row and contributes to no gradient row, never out of bounds.
 * Backward design: the ids are always on the host (the tokenizer runs there), so the launcher's helper
 * sorts the token positions by id once per batch (counting sort, O(N + V)) and the kernel gathers each
 * table row's tokens in order: one dispatch, parallel over V × C/256, fixed summation order, no
 * atomics. The rejected alternative, workgroups owning column blocks and walking all N tokens, is
 * race-free too but runs only C/4 threads, each through N dependent steps.
 * Cost: forward 0 FLOPs, fewest bytes 4·(N + 2·N·C); backward N·C adds, fewest bytes
 * 4·(V + 1 + N + N·C + V·C) (twice V·C when accumulating).
 */
import { ceilDiv, createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { describeShape, releaseTensor, type Tensor, uploadTensor, writeTensor } from '../../tensor';
import embeddingWgsl from './embedding.wgsl?raw';
import embeddingBackwardWgsl from './embedding-backward.wgsl?raw';
import halfTableWgsl from './embedding-table-f16.wgsl?raw';
import floatTableWgsl from './embedding-table-f32.wgsl?raw';

const embeddingKernel: KernelDefinition = {
  name: 'embedding',
  wgsl: `${embeddingWgsl}\n${floatTableWgsl}`,
  bindings: ['uniform', 'read', 'read', 'write'],
};

/** The lookup from a table kept in half precision (a frozen embedding), widened to f32 rows. */
const embeddingHalfTableKernel: KernelDefinition = {
  name: 'embedding-half-table',
  wgsl: `${embeddingWgsl}\n${halfTableWgsl}`,
  bindings: ['uniform', 'read', 'read-half', 'write'],
};

const embeddingBackwardKernel: KernelDefinition = {
  name: 'embedding-backward',
  wgsl: embeddingBackwardWgsl,
  bindings: ['uniform', 'read', 'read', 'read', 'write'],
};

/** Columns one backward workgroup owns (64 lanes × 4), as in embedding-backward.wgsl. */
const backwardColumnsPerGroup = 256;

/** The CSR index of a batch's ids: tokens[rowStart[v] .. rowStart[v + 1]) are the positions with id v. */
export interface EmbeddingIndex {
  rowStart: Uint32Array;
  tokens: Uint32Array;
}

/** Builds the CSR index with a stable counting sort; throws on an id outside [0, V). */
export function embeddingIndex(ids: ArrayLike<number>, vocab: number): EmbeddingIndex {
  const rowStart = new Uint32Array(vocab + 1);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n] as number;
    if (!(Number.isInteger(id) && id >= 0 && id < vocab)) {
      throw new Error(`embedding: token ${n} has id ${id}, outside the vocabulary [0, ${vocab}).`);
    }
    rowStart[id + 1] = (rowStart[id + 1] as number) + 1;
  }
  for (let v = 0; v < vocab; v++) rowStart[v + 1] = (rowStart[v + 1] as number) + (rowStart[v] as number);
  const next = rowStart.slice(0, vocab);
  const tokens = new Uint32Array(ids.length);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n] as number;
    tokens[next[id] as number] = n;
    next[id] = (next[id] as number) + 1;
  }
  return { rowStart, tokens };
}

/** A batch's ids on the GPU: `ids` for the forward, `rowStart` and `tokens` for the backward. */
export interface EmbeddingIds {
  ids: Tensor;
  rowStart: Tensor;
  tokens: Tensor;
  vocab: number;
}

/** Validates the ids on the host and uploads them with their CSR index. */
export function uploadEmbeddingIds(
  runtime: Runtime,
  label: string,
  shape: readonly number[],
  ids: Uint32Array,
  vocab: number,
): EmbeddingIds {
  const index = embeddingIndex(ids, vocab);
  return {
    ids: uploadTensor(runtime.arena, label, shape, ids),
    rowStart: uploadTensor(runtime.arena, `${label} rowStart`, [vocab + 1], index.rowStart),
    tokens: uploadTensor(runtime.arena, `${label} tokens`, [ids.length], index.tokens),
    vocab,
  };
}

/** Writes a new batch of the same size into uploaded ids, e.g. before replaying a recorded step. */
export function writeEmbeddingIds(runtime: Runtime, target: EmbeddingIds, ids: Uint32Array): void {
  if (ids.length !== target.ids.size) {
    throw new Error(`embedding: ${describeShape(target.ids)} cannot take ${ids.length} ids.`);
  }
  const index = embeddingIndex(ids, target.vocab);
  writeTensor(runtime.device, target.ids, ids);
  writeTensor(runtime.device, target.rowStart, index.rowStart);
  writeTensor(runtime.device, target.tokens, index.tokens);
}

export function releaseEmbeddingIds(runtime: Runtime, target: EmbeddingIds): void {
  for (const t of [target.ids, target.rowStart, target.tokens]) releaseTensor(runtime.arena, t);
}

function tableShape(table: Tensor, what: string): [number, number] {
  if (table.shape.length !== 2) {
    throw new Error(`embedding: ${what} ${describeShape(table)} must be [V, C].`);
  }
  return table.shape as [number, number];
}

function expectRows(t: Tensor, tokens: number, width: number, detail: string) {
  if (t.size !== tokens * width || (t.shape.at(-1) ?? 1) !== width) {
    throw new Error(`embedding: ${describeShape(t)} must be [${tokens}, ${width}] (${detail}).`);
  }
}

export interface EmbeddingArgs {
  table: Tensor;
  /** u32 token ids, any shape; N = ids.size. */
  ids: Tensor;
  out: Tensor;
  /** out = table[ids]·scale (Gemma's √C); 1 when absent. */
  scale?: number;
  label?: string;
}

export async function embedding(runtime: Runtime, args: EmbeddingArgs): Promise<Dispatch> {
  const [V, C] = tableShape(args.table, 'table');
  const N = args.ids.size;
  if (args.ids.dtype !== 'u32') {
    throw new Error(`embedding: ids ${describeShape(args.ids)} must be u32, not ${args.ids.dtype}.`);
  }
  expectRows(args.out, N, C, `one row of ${describeShape(args.table)} per id of ${describeShape(args.ids)}`);
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([N, V, C, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: args.table.dtype === 'f16' ? embeddingHalfTableKernel : embeddingKernel,
    constants: { SCALE: args.scale ?? 1 },
    buffers: [uniform, args.ids.buffer, args.table.buffer, args.out.buffer],
    workgroups: grid1d(runtime, N * C, 256),
    label: args.label ?? `embedding ${args.table.label}[${args.ids.label}]`,
    owned: [uniform],
  });
}

export interface EmbeddingBackwardArgs {
  dout: Tensor;
  dtable: Tensor;
  /** The rowStart and tokens of `uploadEmbeddingIds`. */
  index: Pick<EmbeddingIds, 'rowStart' | 'tokens'>;
  /** Add into dtable (tied weights, gradient accumulation) instead of overwriting it. */
  accumulate?: boolean;
  /** The forward's scale. */
  scale?: number;
  label?: string;
}

export async function embeddingBackward(runtime: Runtime, args: EmbeddingBackwardArgs): Promise<Dispatch> {
  const [V, C] = tableShape(args.dtable, 'dtable');
  const { rowStart, tokens } = args.index;
  const N = tokens.size;
  if (rowStart.dtype !== 'u32' || tokens.dtype !== 'u32') {
    throw new Error(
      `embedding backward: the index ${describeShape(rowStart)}, ${describeShape(tokens)} must be u32.`,
    );
  }
  if (rowStart.size !== V + 1) {
    throw new Error(
      `embedding backward: ${describeShape(rowStart)} must have V + 1 = ${V + 1} entries for ` +
        `${describeShape(args.dtable)}.`,
    );
  }
  expectRows(args.dout, N, C, `one row per token of ${describeShape(tokens)}`);
  const columnBlocks = ceilDiv(C, backwardColumnsPerGroup);
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([N, V, C, columnBlocks]).buffer);
  return makeDispatch(runtime, {
    kernel: embeddingBackwardKernel,
    constants: { ACCUMULATE: Boolean(args.accumulate), SCALE: args.scale ?? 1 },
    buffers: [uniform, rowStart.buffer, tokens.buffer, args.dout.buffer, args.dtable.buffer],
    workgroups: grid1d(runtime, V * columnBlocks, 1),
    label: args.label ?? `embedding backward ${args.dout.label} into ${args.dtable.label}`,
    owned: [uniform],
  });
}
