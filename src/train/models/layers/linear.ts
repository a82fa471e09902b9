/**
 * A linear layer on the engine's kernels, in both Hugging Face weight layouts:
 * nn.Linear stores W as [OUT, IN] (y = x·Wᵀ + b); GPT-2's Conv1D stores it as [IN, OUT] (y = x·W + b).
 * Backward: dx = dy·W (or dy·Wᵀ), dW = dyᵀ·x (or xᵀ·dy), db = Σ_rows dy. Shapes: x [M, IN], y [M, OUT].
 */
import type { Dispatch } from '../../../gpu/dispatch';
import { matmul } from '../../../gpu/kernels/matmul/matmul';
import { matmulSplitK } from '../../../gpu/kernels/matmul/split-k';
import { sumRows } from '../../../gpu/kernels/sum-rows/sum-rows';
import type { Runtime } from '../../../gpu/runtime';
import type { Tensor } from '../../../gpu/tensor';

export interface Linear {
  name: string;
  weight: Tensor;
  bias?: Tensor;
  layout: 'out-in' | 'in-out';
}

export interface LinearGrads {
  weight?: Tensor;
  bias?: Tensor;
}

export function linearForward(runtime: Runtime, layer: Linear, x: Tensor, y: Tensor): Promise<Dispatch> {
  return matmul(runtime, {
    a: x,
    b: layer.weight,
    out: y,
    transB: layer.layout === 'out-in',
    bias: layer.bias,
    label: `${layer.name}.forward`,
  });
}

export interface LinearBackwardIo {
  x: Tensor;
  dy: Tensor;
  /** Omitted when nothing upstream needs the input's gradient. */
  dx?: Tensor;
  /** Add into dx: several layers read the same input (q, k and v read one normed x). */
  accumulateDx?: boolean;
  /** Add into the weight gradients (gradient accumulation) instead of overwriting them. */
  accumulateGrads?: boolean;
}

export async function linearBackward(
  runtime: Runtime,
  layer: Linear,
  grads: LinearGrads,
  io: LinearBackwardIo,
): Promise<Dispatch[]> {
  const outIn = layer.layout === 'out-in';
  const work: Promise<Dispatch | Dispatch[]>[] = [];
  if (io.dx) {
    work.push(
      matmul(runtime, {
        a: io.dy,
        b: layer.weight,
        out: io.dx,
        transB: !outIn,
        accumulate: io.accumulateDx,
        label: `${layer.name}.dx`,
      }),
    );
  }
  if (grads.weight) {
    work.push(
      outIn
        ? matmulSplitK(runtime, {
            a: io.dy,
            b: io.x,
            out: grads.weight,
            transA: true,
            accumulate: io.accumulateGrads,
            label: `${layer.name}.dW`,
          })
        : matmulSplitK(runtime, {
            a: io.x,
            b: io.dy,
            out: grads.weight,
            transA: true,
            accumulate: io.accumulateGrads,
            label: `${layer.name}.dW`,
          }),
    );
  }
  if (grads.bias) {
    work.push(
      sumRows(runtime, {
        x: io.dy,
        out: grads.bias,
        accumulate: io.accumulateGrads,
        label: `${layer.name}.db`,
      }),
    );
  }
  return (await Promise.all(work)).flat();
}
