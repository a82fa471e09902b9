/**
 * The one shared kernel check. It uploads the inputs, poisons every output with NaN (or writes the
 * given starting values for outputs a kernel accumulates into), runs the kernel, downloads each output
 * and compares it with the float64 reference under that output's stated tolerance. On failure it
 * throws a `KernelMismatchError` that names the first differing elements and the largest difference.
 */

import { roundToHalf, toHalfBits } from '../../numeric/half';
import { dequantizeNf4, quantizeNf4 } from '../../numeric/nf4';
import { type Dispatch, releaseDispatches, submitDispatches } from '../dispatch';
import type { Runtime } from '../runtime';
import {
  downloadTensor,
  releaseTensor,
  type Tensor,
  uploadHalfTensor,
  uploadNf4Tensor,
  uploadTensor,
} from '../tensor';
import { type Comparison, compareToReference, formatComparison, type Tolerance } from './compare';
import { product } from './random';

export class KernelMismatchError extends Error {
  override readonly name = 'KernelMismatchError';
}

export interface CheckedOutput {
  shape: number[];
  tol: Tolerance;
  /** Starting contents, for outputs the kernel adds into; otherwise the output starts as NaN. */
  initial?: Float32Array;
}

export interface KernelCheck {
  name: string;
  /**
   * `half` inputs are stored in half precision, `nf4` ones quantized to NF4; the reference sees the
   * values as stored.
   */
  inputs: Record<string, { shape: number[]; data: Float32Array; half?: boolean; nf4?: boolean }>;
  outputs: Record<string, CheckedOutput>;
  launch(runtime: Runtime, tensors: Record<string, Tensor>): Promise<Dispatch | Dispatch[]>;
  reference(inputs: Record<string, Float64Array>): Record<string, Float64Array>;
}

type CheckedInput = KernelCheck['inputs'][string];

function storedValues(input: CheckedInput): Float32Array {
  if (input.half) return roundToHalf(input.data);
  if (input.nf4) return dequantizeNf4(quantizeNf4(input.data), input.data.length);
  return input.data;
}

function uploadInput(runtime: Runtime, name: string, input: CheckedInput): Tensor {
  if (input.half) return uploadHalfTensor(runtime.arena, name, input.shape, toHalfBits(input.data));
  if (input.nf4) return uploadNf4Tensor(runtime.arena, name, input.shape, quantizeNf4(input.data));
  return uploadTensor(runtime.arena, name, input.shape, input.data);
}

export async function checkKernel(runtime: Runtime, check: KernelCheck): Promise<Comparison[]> {
  const tensors: Record<string, Tensor> = {};
  const want = check.reference(
    Object.fromEntries(
      Object.entries(check.inputs).map(([name, input]) => [name, Float64Array.from(storedValues(input))]),
    ),
  );
  for (const [name, input] of Object.entries(check.inputs)) tensors[name] = uploadInput(runtime, name, input);
  for (const [name, output] of Object.entries(check.outputs)) {
    const start = output.initial ?? new Float32Array(product(output.shape)).fill(Number.NaN);
    tensors[name] = uploadTensor(runtime.arena, name, output.shape, start);
  }
  const launched = await check.launch(runtime, tensors);
  const dispatches = Array.isArray(launched) ? launched : [launched];
  try {
    submitDispatches(runtime, dispatches, check.name);
    const comparisons: Comparison[] = [];
    const failures: string[] = [];
    for (const [name, output] of Object.entries(check.outputs)) {
      const reference = want[name];
      if (!reference) throw new Error(`${check.name}: the reference gives no "${name}".`);
      const got = await downloadTensor(runtime.arena, tensors[name] as Tensor);
      const comparison = compareToReference(name, got, reference, output.tol);
      comparisons.push(comparison);
      if (!comparison.ok) failures.push(formatComparison(comparison, output.shape, output.tol));
    }
    if (failures.length > 0) throw new KernelMismatchError(`${check.name}\n${failures.join('\n')}`);
    return comparisons;
  } finally {
    releaseDispatches(runtime, dispatches);
    for (const tensor of Object.values(tensors)) releaseTensor(runtime.arena, tensor);
  }
}
