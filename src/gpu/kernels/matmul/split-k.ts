/**
 * Split-K for matmuls whose output is too small to fill a GPU while K is long: the weight gradients,
 * dW = dYᵀ·X and LoRA's dA, dB, whose K is every token of the step and whose output is a weight
 * (LoRA's r × C launches a handful of 64-wide tiles, each walking thousands of k). The matmul's grid z
 * takes ranges of K instead (matmul.wgsl's SPLIT_K), writing partial products into a workspace that one
 * runtime keeps for all of them (dispatches run in order, so they can share it), and split-k-fold.wgsl
 * sums the partials into the output. Short K, or an output that already launches enough workgroups,
 * runs as one matmul, unchanged.
 * Cost of a split: the matmul's FLOPs, plus 4·(S + 1)·M·N bytes (+ 4·M·N to accumulate) for the fold.
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { createTensor, type Tensor } from '../../tensor';
import { type MatmulArgs, matmul, matmulTileRows, tileColumns, tileDepth } from './matmul';
import foldWgsl from './split-k-fold.wgsl?raw';

/** The workgroups a split aims for: about twice the 132 SMs of an H100 or H200, the largest GPUs here. */
export const splitKTargetWorkgroups = 256;
/** The least K one split walks (16 slices of 16), so the fold's extra pass stays small beside each range. */
export const splitKMinChunk = 256;
export const splitKMaxSplits = 16;
/** The shared partials' buffer, allocated by a runtime's first split; it caps S·M·N. */
export const splitKWorkspaceBytes = 8 * 2 ** 20;

export interface SplitKPlan {
  splits: number;
  /** K per split, a multiple of tileDepth. */
  chunk: number;
}

/** How to split an M × N output's K, or undefined to run the matmul whole. */
export function splitKPlan(M: number, N: number, K: number): SplitKPlan | undefined {
  const tiles = Math.ceil(M / matmulTileRows(M)) * Math.ceil(N / tileColumns);
  if (tiles >= splitKTargetWorkgroups) return undefined;
  const fits = Math.floor(splitKWorkspaceBytes / (4 * M * N));
  const wanted = Math.min(
    splitKMaxSplits,
    Math.floor(K / splitKMinChunk),
    Math.ceil(splitKTargetWorkgroups / tiles),
    fits,
  );
  if (wanted < 2) return undefined;
  const chunk = Math.ceil(K / wanted / tileDepth) * tileDepth;
  return { splits: Math.ceil(K / chunk), chunk };
}

const foldKernel: KernelDefinition = {
  name: 'split-k-fold',
  wgsl: foldWgsl,
  bindings: ['uniform', 'read', 'write'],
};

const workspaces = new WeakMap<Runtime, Tensor>();

/** The runtime's shared partials (exported for tests, which poison it). */
export function splitKWorkspace(runtime: Runtime): Tensor {
  let tensor = workspaces.get(runtime);
  if (!tensor) {
    tensor = createTensor(runtime.arena, 'split-K partials', [splitKWorkspaceBytes / 4]);
    workspaces.set(runtime, tensor);
  }
  return tensor;
}

/** out = Σ_s partials[s] (+ out), partials [S, ...out's shape]. */
export async function foldSplits(
  runtime: Runtime,
  args: { partials: Tensor; splits: number; out: Tensor; accumulate?: boolean; label?: string },
): Promise<Dispatch> {
  const count = args.out.size;
  if (args.partials.size < args.splits * count)
    throw new Error(`foldSplits: ${args.partials.label} holds fewer than ${args.splits} × ${count} values.`);
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([count, args.splits, 0, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: foldKernel,
    constants: { ACCUMULATE: Boolean(args.accumulate) },
    buffers: [uniform, args.partials.buffer, args.out.buffer],
    workgroups: grid1d(runtime, count, 256),
    label: args.label ?? `sum of ${args.splits} split-K partials into ${args.out.label}`,
    owned: [uniform],
  });
}

/**
 * The matmul, split along K when splitKPlan says so (2-D A and B, 2-D out, no bias or low-rank term):
 * one dispatch, or the split matmul and its fold.
 */
export async function matmulSplitK(runtime: Runtime, args: MatmulArgs): Promise<Dispatch[]> {
  const { a, b, out } = args;
  const plain = a.shape.length === 2 && b.shape.length === 2 && out.shape.length === 2;
  const [M, N] = out.shape as [number, number];
  const K = args.transA ? (a.shape[0] as number) : (a.shape[1] as number);
  const plan = plain && !args.bias && !args.lowRank ? splitKPlan(M, N, K) : undefined;
  if (!plan) return [await matmul(runtime, args)];
  const label = args.label ?? `matmul ${a.label}·${b.label}`;
  const space = splitKWorkspace(runtime);
  const partials: Tensor = { ...space, shape: [plan.splits, M, N], size: plan.splits * M * N };
  const { accumulate, ...product } = args;
  return [
    await matmul(runtime, {
      ...product,
      out: partials,
      splitK: plan,
      label: `${label} (${plan.splits} K splits)`,
    }),
    await foldSplits(runtime, { partials, splits: plan.splits, out, accumulate, label: `${label} fold` }),
  ];
}
