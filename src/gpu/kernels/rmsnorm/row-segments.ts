/**
 * What the rmsnorm and layernorm launchers share: the row-segments WGSL (prepended to their kernels), the
 * choice of lanes per row, the grid of the backward pass and its partial parameter-gradient sums, and the
 * shape checks, which throw naming the op, the tensor and the shapes.
 */
import type { BindingKind, KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import rowSegments from './row-segments.wgsl?raw';
import segmentSumPlain from './segment-sum-plain.wgsl?raw';
import segmentSumSubgroups from './segment-sum-subgroups.wgsl?raw';

/** The two preludes: row segments with the tree-only segment_sum, or with subgroup sums. */
export const rowSegmentsPlainWgsl = `${rowSegments}\n${segmentSumPlain}`;
// `enable subgroups;` must open the module.
export const rowSegmentsSubgroupsWgsl = `enable subgroups;\n${rowSegments}\n${segmentSumSubgroups}`;

export const rowWorkgroupSize = 256;

/** A row kernel in both forms: with the tree-only prelude, and with subgroup sums. */
export interface RowKernel {
  plain: KernelDefinition;
  subgroups: KernelDefinition;
}

export function rowKernel(name: string, wgsl: string, bindings: readonly BindingKind[]): RowKernel {
  return {
    plain: { name, wgsl: `${rowSegmentsPlainWgsl}\n${wgsl}`, bindings },
    subgroups: { name: `${name}-subgroups`, wgsl: `${rowSegmentsSubgroupsWgsl}\n${wgsl}`, bindings },
  };
}

/**
 * The form to run: subgroup sums where the device has the `subgroups` feature (the shader still falls
 * back to the tree when its subgroups are not laid out as it needs), unless `subgroups` is false.
 */
export function rowKernelFor(runtime: Runtime, kernel: RowKernel, subgroups = true): KernelDefinition {
  return subgroups && runtime.device.features.has('subgroups' as GPUFeatureName)
    ? kernel.subgroups
    : kernel.plain;
}

/**
 * Lanes per row: one warp (32 lanes) per row up to C = 1024, as warp-per-row norm kernels do: a row's
 * few loads per lane stay in flight together, many rows share a workgroup, and there is less summing
 * across lanes. Wider rows double the lanes, up to 256 (the whole workgroup), to keep at most 32
 * elements per lane.
 */
export function rowLanes(cols: number): number {
  let lanes = 32;
  while (lanes < rowWorkgroupSize && lanes * 32 < cols) lanes *= 2;
  return lanes;
}

/** The lanes asked for, or those rowLanes picks; only powers of two from 32 to 256 are valid. */
export function lanesFor(op: string, cols: number, lanes?: number): number {
  const chosen = lanes ?? rowLanes(cols);
  if (![32, 64, 128, 256].includes(chosen))
    throw new Error(`${op}: lanes must be 32, 64, 128 or 256, got ${chosen}.`);
  return chosen;
}

/**
 * Enough workgroups to fill a large discrete GPU (~1000 resident 256-thread groups on 132 SMs) while
 * each segment still sums several rows before the partials reach memory.
 */
export const defaultMaxWorkgroups = 1024;

export interface PartialPlan {
  /** Workgroups of the backward row pass, on grid x. */
  workgroups: number;
  /** P: segments in the grid; segment p takes rows p, p + P, ... */
  segments: number;
  /** min(P, ROWS): partial rows actually written, and summed by sum-rows. */
  partialRows: number;
}

export function partialPlan(rows: number, lanes: number, maxWorkgroups = defaultMaxWorkgroups): PartialPlan {
  if (!(Number.isInteger(maxWorkgroups) && maxWorkgroups >= 1))
    throw new Error(`maxWorkgroups must be a positive integer, got ${maxWorkgroups}.`);
  const perGroup = rowWorkgroupSize / lanes;
  const workgroups = Math.min(Math.ceil(rows / perGroup), maxWorkgroups);
  const segments = workgroups * perGroup;
  return { workgroups, segments, partialRows: Math.min(segments, rows) };
}

const shapeOf = (t: Tensor) => `${t.label}[${t.shape.join(', ')}]`;

/** x viewed as [ROWS, C]: C its last dimension, ROWS every leading one. */
export function rowsOf(op: string, x: Tensor): { rows: number; cols: number } {
  const cols = x.shape.at(-1) ?? 0;
  if (x.size === 0 || cols === 0) throw new Error(`${op}: ${shapeOf(x)} is empty; it needs [..., C].`);
  return { rows: x.size / cols, cols };
}

/** Checks that every tensor is f32 and has the element count given beside it. */
export function expectSizes(op: string, x: Tensor, expected: readonly [Tensor, number, string][]): void {
  for (const [t, size, what] of expected) {
    if (t.dtype !== 'f32') throw new Error(`${op}: ${shapeOf(t)} is ${t.dtype}; it must be f32.`);
    if (t.size !== size)
      throw new Error(`${op}: ${shapeOf(t)} has ${t.size} elements; ${what} of ${shapeOf(x)} needs ${size}.`);
  }
}

export function checkEps(op: string, eps: number): void {
  if (!(Number.isFinite(eps) && eps >= 0)) throw new Error(`${op}: eps must be finite and ≥ 0, got ${eps}.`);
}
