/**
 * The one shared kernel check. It uploads the inputs, poisons every output with NaN (or writes the
 * given starting values for outputs a kernel accumulates into), runs the kernel, downloads each output
 * and compares it with the float64 reference under that output's stated tolerance. On failure it
 * throws a `KernelMismatchError` that names the first differing elements and the largest difference.
 */

import { roundToHalf, toHalfBits } from '../../numeric/half';
import { type Dispatch, releaseDispatches, submitDispatches } from '../dispatch';
import type { Runtime } from '../runtime';
import { downloadTensor, releaseTensor, type Tensor, uploadHalfTensor, uploadTensor } from '../tensor';
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
  /** `half` inputs are stored in half precision; the reference sees the values rounded as stored. */
  inputs: Record<string, { shape: number[]; data: Float32Array; half?: boolean }>;
  outputs: Record<string, CheckedOutput>;
  launch(runtime: Runtime, tensors: Record<string, Tensor>): Promise<Dispatch | Dispatch[]>;
  reference(inputs: Record<string, Float64Array>): Record<string, Float64Array>;
}

export async function checkKernel(runtime: Runtime, check: KernelCheck): Promise<Comparison[]> {
  const tensors: Record<string, Tensor> = {};
  const want = check.reference(
    Object.fromEntries(
      Object.entries(check.inputs).map(([name, input]) => [
        name,
        Float64Array.from(input.half ? roundToHalf(input.data) : input.data),
      ]),
    ),
  );
  for (const [name, input] of Object.entries(check.inputs)) {
    tensors[name] = input.half
      ? uploadHalfTensor(runtime.arena, name, input.shape, toHalfBits(input.data))
      : uploadTensor(runtime.arena, name, input.shape, input.data);
  }
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
