/**
 * Launcher for rotary position embedding (rope.wgsl), forward and backward, HF Llama's rotate_half form
 * (Su et al. 2021, "RoFormer"; HF `apply_rotary_pos_emb`).
 *
 * Shapes (B batch, T tokens, NH heads, D head width, even):
 *   x, out: [B, T, NH, D], heads contiguous per token as the q/k projections write them (NH = KV for k)
 *   invFreq: [D/2] f32, made once by `createRopeTable`     positionOffsets: [B] u32, optional
 * Token t of sequence b sits at position t + positionOffsets[b] (a KV cache's fill level later).
 * The backward pass (`backward: true`) maps dy to dx by rotating the other way. out must not alias x.
 * Cost: FLOPs 3 per element, plus ~40 for the cos and sin of each (token, pair), shared by 4 heads;
 * fewest bytes 8·B·T·NH·D (read x, write out) plus the 2·D-byte table.
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { describeShape, type Tensor, uploadTensor } from '../../tensor';
import ropeWgsl from './rope.wgsl?raw';
import { checkHeadDim, type RopeConfig, ropeInvFreq } from './rope-frequencies';

const ropeKernel: KernelDefinition = {
  name: 'rope',
  wgsl: ropeWgsl,
  bindings: ['uniform', 'read', 'read', 'read', 'write'],
};

const workgroupSize = 256;
/** Heads that share one thread's cos/sin on the vec4 path: trades SFU work for parallelism. */
export const ropeHeadsPerThread = 4;

/** Uploads the (possibly Llama-3-scaled) inv_freq table [D/2] for `rope`; the caller releases it. */
export function createRopeTable(runtime: Runtime, config: RopeConfig, label = 'rope inv_freq'): Tensor {
  const table = ropeInvFreq(config);
  return uploadTensor(runtime.arena, label, [table.length], Float32Array.from(table));
}

export interface RopeArgs {
  x: Tensor;
  out: Tensor;
  invFreq: Tensor;
  positionOffsets?: Tensor;
  backward?: boolean;
  label?: string;
}

function checkArgs(args: RopeArgs): [number, number, number, number] {
  const { x, out, invFreq, positionOffsets } = args;
  const fail = (detail: string) =>
    new Error(`rope ${args.label ?? ''}: ${detail} (x ${describeShape(x)}, out ${describeShape(out)}).`);
  if (x.shape.length !== 4) throw fail(`x must be [B, T, NH, D]`);
  const [B, T, NH, D] = x.shape as [number, number, number, number];
  checkHeadDim(D, `rope: ${describeShape(x)}`);
  if (out.shape.length !== 4 || out.shape.some((dim, i) => dim !== x.shape[i])) {
    throw fail('out must have the shape of x');
  }
  if (out.buffer === x.buffer) throw fail('out must not alias x');
  if (invFreq.size !== D / 2 || invFreq.dtype !== 'f32') {
    throw fail(`invFreq ${describeShape(invFreq)} must be f32 [D/2] = [${D / 2}]`);
  }
  if (positionOffsets && (positionOffsets.size !== B || positionOffsets.dtype !== 'u32')) {
    throw fail(`positionOffsets ${describeShape(positionOffsets)} must be u32 [B] = [${B}]`);
  }
  return [B, T, NH, D];
}

export async function rope(runtime: Runtime, args: RopeArgs): Promise<Dispatch> {
  const [B, T, NH, D] = checkArgs(args);
  const count = args.x.size;
  const vec = D % 8 === 0;
  const headChunks = Math.ceil(NH / ropeHeadsPerThread);
  const threads = vec ? B * T * headChunks * (D / 8) : Math.ceil(count / 4);
  const uniform = createUniform(
    runtime,
    'uniforms',
    new Uint32Array([count, T, NH, D, threads, headChunks, 0, 0]).buffer,
  );
  return makeDispatch(runtime, {
    kernel: ropeKernel,
    constants: {
      VEC: vec,
      BACKWARD: Boolean(args.backward),
      HAS_OFFSETS: Boolean(args.positionOffsets),
      HEADS_PER_THREAD: ropeHeadsPerThread,
    },
    buffers: [
      uniform,
      args.invFreq.buffer,
      args.positionOffsets?.buffer ?? runtime.placeholder.storage,
      args.x.buffer,
      args.out.buffer,
    ],
    workgroups: grid1d(runtime, threads, workgroupSize),
    label: args.label ?? `rope${args.backward ? ' backward' : ''} ${args.x.label}`,
    owned: [uniform],
  });
}
