/**
 * Fused LoRA linear layer (Hu et al. 2021, "LoRA"; rsLoRA: Kalajdzievski 2023):
 *   y = x·Wᵀ (+ b) + s·dropout(x)·Aᵀ·Bᵀ,   s = alpha/r, or alpha/√r with rsLoRA.
 *
 * Shapes (M = rows of x, i.e. batch·tokens; IN, OUT the layer's widths; r the rank):
 *   x [M, IN]   W [OUT, IN]   b [OUT]   A [r, IN]   B [OUT, r]   y [M, OUT]   u [M, r] (saved)
 *
 * Forward, 2 dispatches: u = dropout(x)·Aᵀ; then y = x·Wᵀ + b + s·u·Bᵀ as one tiled matmul whose
 * epilogue adds the rank-r term, so W + s·B·A is never formed.
 * Backward, 4 dispatches, never forming dW (W is frozen):
 *   dB = s·dyᵀ·u     du = s·dy·B     dA = duᵀ·dropout(x)     dx = dy·W + mask ⊙ (du·A)
 * The dropout mask is recomputed from (seed, step, stream) wherever it is needed.
 * Cost: forward 2·M·(IN·OUT + r·IN + r·OUT) FLOPs, backward 2·M·(IN·OUT + 2·r·IN + 2·r·OUT).
 */
import type { Dispatch } from '../../dispatch';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import type { RngState } from '../dropout/rng-state';
import { type DropoutSite, matmul } from '../matmul/matmul';
import { matmulSplitK } from '../matmul/split-k';

export interface LoraConfig {
  rank: number;
  alpha: number;
  /** Scale by alpha/√r instead of alpha/r. */
  rsLora?: boolean;
  /** Dropout probability on the LoRA path's input; 0 turns it off. */
  dropout?: number;
}

export function loraScale(config: LoraConfig): number {
  return config.rsLora ? config.alpha / Math.sqrt(config.rank) : config.alpha / config.rank;
}

export interface LoraLayer {
  /** [OUT, IN], or [IN, OUT] with weightLayout 'in-out' (GPT-2's Conv1D). */
  weight: Tensor;
  weightLayout?: 'out-in' | 'in-out';
  bias?: Tensor;
  loraA: Tensor;
  loraB: Tensor;
  config: LoraConfig;
  /** Where the dropout mask comes from; needed when config.dropout > 0. */
  rng?: RngState;
  /** Distinguishes this layer's dropout mask from every other layer's. */
  stream: number;
  label: string;
}

function dropoutSite(layer: LoraLayer): DropoutSite | undefined {
  const p = layer.config.dropout ?? 0;
  if (p === 0) return undefined;
  if (!layer.rng) throw new Error(`LoRA layer ${layer.label}: dropout ${p} needs an RngState.`);
  return { p, rng: layer.rng, stream: layer.stream };
}

function checkShapes(layer: LoraLayer, x: Tensor) {
  const [rows, cols] = layer.weight.shape as [number, number];
  const [out, inFeatures] = layer.weightLayout === 'in-out' ? [cols, rows] : [rows, cols];
  const r = layer.config.rank;
  const expect = (t: Tensor, shape: number[]) => {
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `LoRA layer ${layer.label}: ${t.label} is [${t.shape.join(', ')}], expected [${shape.join(', ')}].`,
      );
    }
  };
  expect(layer.loraA, [r, inFeatures]);
  expect(layer.loraB, [out, r]);
  if (x.shape[x.shape.length - 1] !== inFeatures) {
    throw new Error(
      `LoRA layer ${layer.label}: input ${x.label} has ${x.shape.at(-1)} features, expected ${inFeatures}.`,
    );
  }
}

export async function loraLinearForward(
  runtime: Runtime,
  layer: LoraLayer,
  io: { x: Tensor; y: Tensor; u: Tensor },
): Promise<Dispatch[]> {
  checkShapes(layer, io.x);
  const drop = dropoutSite(layer);
  return Promise.all([
    matmul(runtime, {
      a: io.x,
      b: layer.loraA,
      out: io.u,
      transB: true,
      ...(drop ? { dropout: { ...drop, operand: 'a' as const } } : {}),
      label: `${layer.label}.lora_down`,
    }),
    matmul(runtime, {
      a: io.x,
      b: layer.weight,
      out: io.y,
      transB: layer.weightLayout !== 'in-out',
      bias: layer.bias,
      lowRank: { u: io.u, v: layer.loraB, vLayout: 'nr', scale: loraScale(layer.config) },
      label: `${layer.label}.forward`,
    }),
  ]);
}

export interface LoraBackwardIo {
  x: Tensor;
  u: Tensor;
  dy: Tensor;
  /** Scratch [M, r]. */
  du: Tensor;
  dx: Tensor;
  dA: Tensor;
  dB: Tensor;
  /** Add into dA and dB (gradient accumulation) instead of overwriting them. */
  accumulate?: boolean;
  /** Add into dx: several layers read the same input. */
  accumulateDx?: boolean;
}

export async function loraLinearBackward(
  runtime: Runtime,
  layer: LoraLayer,
  io: LoraBackwardIo,
): Promise<Dispatch[]> {
  checkShapes(layer, io.x);
  const drop = dropoutSite(layer);
  const s = loraScale(layer.config);
  // Order matters: du must be written before dA and dx read it; all four run in one pass, in order.
  const work = await Promise.all([
    matmulSplitK(runtime, {
      a: io.dy,
      b: io.u,
      out: io.dB,
      transA: true,
      alpha: s,
      accumulate: io.accumulate,
      label: `${layer.label}.dB`,
    }),
    matmul(runtime, { a: io.dy, b: layer.loraB, out: io.du, alpha: s, label: `${layer.label}.du` }),
    matmulSplitK(runtime, {
      a: io.du,
      b: io.x,
      out: io.dA,
      transA: true,
      accumulate: io.accumulate,
      ...(drop ? { dropout: { ...drop, operand: 'b' as const } } : {}),
      label: `${layer.label}.dA`,
    }),
    matmul(runtime, {
      a: io.dy,
      b: layer.weight,
      out: io.dx,
      transB: layer.weightLayout === 'in-out',
      accumulate: io.accumulateDx,
      lowRank: { u: io.du, v: layer.loraA, vLayout: 'rn', scale: 1, ...(drop ? { dropout: drop } : {}) },
      label: `${layer.label}.dx`,
    }),
  ]);
  return work.flat();
}
