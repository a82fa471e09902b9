/**
 * LoRA (Hu et al. 2021) and rsLoRA (Kalajdzievski 2023) on the fused LoRA kernel: each targeted linear
 * layer gains A [r, IN] and B [OUT, r]; y = base(x) + s·dropout(x)·Aᵀ·Bᵀ with s = alpha/r (or
 * alpha/√r). Initialised as PEFT does: A Kaiming-uniform with a = √5, i.e. U(−1/√IN, 1/√IN), and B zero,
 * so a fresh adapter leaves the model unchanged. Only A and B train.
 */

import { createRngState, type RngState } from '../../gpu/kernels/dropout/rng-state';
import type { LoraLayer } from '../../gpu/kernels/lora-linear/lora-linear';
import { loraLinearBackward, loraLinearForward } from '../../gpu/kernels/lora-linear/lora-linear';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, type Tensor, uploadTensor } from '../../gpu/tensor';
import { seededRandom } from '../seeded-random';
import {
  type AdaptableModel,
  type Adaptation,
  baseLinearOp,
  type LinearOp,
  type LinearSite,
  type PlanContext,
  type TrainableEntry,
} from './adaptation';
import { defaultLoraTargets, type TargetModules, targetedSites } from './targets';

export interface LoraOptions {
  r: number;
  alpha: number;
  dropout?: number;
  targetModules?: TargetModules;
  useRslora?: boolean;
  /** Seeds the initialisation of A and the dropout masks. */
  seed?: number;
}

interface LoraWeights {
  site: LinearSite;
  a: Tensor;
  b: Tensor;
  gradA: Tensor;
  gradB: Tensor;
  stream: number;
}

export class LoraAdaptation implements Adaptation {
  readonly method = 'lora';
  readonly rng: RngState;
  readonly targets: TargetModules;
  private readonly layers = new Map<string, LoraWeights>();

  constructor(
    runtime: Runtime,
    model: AdaptableModel,
    readonly options: LoraOptions,
    /** Starting weights by site path (an imported adapter); fresh PEFT initialisation otherwise. */
    initial?: Map<string, { a: Float32Array; b: Float32Array }>,
  ) {
    if (!(Number.isInteger(options.r) && options.r > 0))
      throw new Error(`LoRA rank r must be a positive integer, got ${options.r}.`);
    this.targets = options.targetModules ?? defaultLoraTargets(model.config);
    this.rng = createRngState(runtime, options.seed ?? 0);
    const random = seededRandom(options.seed ?? 0);
    const a = runtime.arena;
    targetedSites(model.linearSites(), this.targets).forEach((site, stream) => {
      const bound = 1 / Math.sqrt(site.inFeatures);
      const start = initial?.get(site.path);
      const aData =
        start?.a ??
        Float32Array.from({ length: options.r * site.inFeatures }, () => (random() * 2 - 1) * bound);
      const bData = start?.b ?? new Float32Array(site.outFeatures * options.r);
      this.layers.set(site.path, {
        site,
        a: uploadTensor(a, `${site.path}.lora_A`, [options.r, site.inFeatures], aData),
        b: uploadTensor(a, `${site.path}.lora_B`, [site.outFeatures, options.r], bData),
        gradA: createTensor(a, `grad ${site.path}.lora_A`, [options.r, site.inFeatures]),
        gradB: createTensor(a, `grad ${site.path}.lora_B`, [site.outFeatures, options.r]),
        stream,
      });
    });
  }

  baseGrad(): Tensor | undefined {
    return undefined;
  }

  /** Adapted layers by site path, for export and merging. */
  weights(): Map<string, { site: LinearSite; a: Tensor; b: Tensor }> {
    return this.layers;
  }

  linear(site: LinearSite, ctx: PlanContext): LinearOp {
    const w = this.layers.get(site.path);
    if (!w) return baseLinearOp(ctx.runtime, site.base, {});
    const layer: LoraLayer = {
      weight: site.base.weight,
      weightLayout: site.base.layout,
      ...(site.base.bias ? { bias: site.base.bias } : {}),
      loraA: w.a,
      loraB: w.b,
      config: {
        rank: this.options.r,
        alpha: this.options.alpha,
        rsLora: this.options.useRslora,
        dropout: ctx.training ? (this.options.dropout ?? 0) : 0,
      },
      rng: this.rng,
      stream: w.stream,
      label: site.path,
    };
    const t = (label: string) =>
      createTensor(ctx.runtime.arena, `${site.path} ${label}`, [ctx.N, this.options.r]);
    const u = t('lora u');
    const du = t('lora du');
    return {
      forward: (x, y) => loraLinearForward(ctx.runtime, layer, { x, y, u }),
      backward: (io) => {
        if (!io.dx) throw new Error(`LoRA layer ${site.path}: the backward pass needs dx.`);
        return loraLinearBackward(ctx.runtime, layer, {
          x: io.x,
          u,
          dy: io.dy,
          du,
          dx: io.dx,
          dA: w.gradA,
          dB: w.gradB,
          accumulateDx: io.accumulateDx,
        });
      },
    };
  }

  trainable(): TrainableEntry[] {
    return [...this.layers.values()].flatMap((w) => [
      { name: `${w.site.path}.lora_A.weight`, param: w.a, grad: w.gradA },
      { name: `${w.site.path}.lora_B.weight`, param: w.b, grad: w.gradB },
    ]);
  }

  /** Sets the step the dropout masks are drawn for. */
  setStep(step: number): void {
    this.rng.setStep(step);
  }
}
