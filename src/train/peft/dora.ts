/**
 * DoRA (Liu et al. 2024, "DoRA: Weight-Decomposed Low-Rank Adaptation") as PEFT runs it with
 * LoraConfig(use_dora=True) (tuners/lora/dora.py `DoraLinearLayer`, tuners/lora/variants.py
 * `DoraLinearVariant`, tuners/lora/layer.py `Linear.forward`). Each targeted linear layer gains LoRA's
 * A [r, IN] and B [OUT, r] and a magnitude m [OUT]; with s = alpha/r (or alpha/√r) and the weight norm
 *   n[o] = ‖W[o, :] + s·(B·A)[o, :]‖₂   (per output row; GPT-2's Conv1D weight transposed first),
 * detached from the gradient (DoRA §4.3) and recomputed every forward from the current A and B, g = m/n:
 *   no dropout (or evaluation):  y = b + g ⊙ (x·Wᵀ + s·x·Aᵀ·Bᵀ)
 *   dropout p > 0 in training:   y = x·Wᵀ + b + (g − 1) ⊙ (x̃·Wᵀ) + g ⊙ s·x̃·Aᵀ·Bᵀ,   x̃ = dropout(x)
 * The bias stays unscaled (PEFT subtracts it from the base result before scaling), and with dropout the
 * base output keeps the undropped x while the rescaling term sees x̃, exactly as PEFT computes it.
 * Initialised as PEFT does: A as LoRA's (Kaiming-uniform), B = 0, and m = n at that point, i.e. ‖W‖ row
 * by row, so a fresh adapter leaves the model unchanged. A, B and m train.
 *
 * Per layer and step, with v = x̃·Wᵀ + s·x̃·Aᵀ·Bᵀ (x̃ = x without dropout) saved for the backward:
 *   forward   n (dora-norm); u = x̃·Aᵀ and v (the fused LoRA kernel); y from v (dora-scale)
 *   backward  g ⊙ dy and dm = Σ_rows dy ⊙ v / n (dora-scale); then LoRA's backward with g ⊙ dy as its
 *             output gradient; with dropout the x̃·Wᵀ path takes (g − 1) ⊙ dy, masked, into dx.
 * Dimension letters: N rows (batch × tokens), IN and OUT the layer's widths, r the rank.
 */
import { type Dispatch, releaseDispatches, submitDispatches } from '../../gpu/dispatch';
import { doraNorm } from '../../gpu/kernels/dora-norm/dora-norm';
import { doraScaleBackward, doraScaleForward, dropoutAdd } from '../../gpu/kernels/dora-scale/dora-scale';
import { createRngState, type RngState } from '../../gpu/kernels/dropout/rng-state';
import {
  type LoraLayer,
  loraLinearBackward,
  loraLinearForward,
  loraScale,
} from '../../gpu/kernels/lora-linear/lora-linear';
import { matmul } from '../../gpu/kernels/matmul/matmul';
import { matmulSplitK } from '../../gpu/kernels/matmul/split-k';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, type Tensor, uploadTensor } from '../../gpu/tensor';
import { seededRandom } from '../seeded-random';
import {
  type AdaptableModel,
  type Adaptation,
  baseLinearOp,
  type LinearBackwardIo,
  type LinearOp,
  type LinearSite,
  type PlanContext,
  type TrainableEntry,
} from './adaptation';
import type { LoraOptions } from './lora';
import { defaultLoraTargets, type TargetModules, targetedSites } from './targets';

/** DoRA takes LoRA's settings: r, alpha, dropout, target modules, rsLoRA, seed. */
export type DoraOptions = LoraOptions;

/** Starting weights of one layer (an imported adapter); without a magnitude, m = n(W, A, B). */
export interface DoraStart {
  a: Float32Array;
  b: Float32Array;
  magnitude?: Float32Array;
}

interface DoraWeights {
  site: LinearSite;
  a: Tensor; // [r, IN]
  b: Tensor; // [OUT, r]
  magnitude: Tensor; // [OUT]
  gradA: Tensor;
  gradB: Tensor;
  gradMagnitude: Tensor;
  stream: number;
}

export class DoraAdaptation implements Adaptation {
  readonly method = 'dora';
  readonly rng: RngState;
  readonly targets: TargetModules;
  private readonly layers = new Map<string, DoraWeights>();
  private readonly initialised: Promise<void>;

  constructor(
    runtime: Runtime,
    model: AdaptableModel,
    readonly options: DoraOptions,
    initial?: Map<string, DoraStart>,
  ) {
    if (!(Number.isInteger(options.r) && options.r > 0))
      throw new Error(`DoRA rank r must be a positive integer, got ${options.r}.`);
    this.targets = options.targetModules ?? defaultLoraTargets(model.config);
    this.rng = createRngState(runtime, options.seed ?? 0);
    const random = seededRandom(options.seed ?? 0);
    const arena = runtime.arena;
    const unset: DoraWeights[] = [];
    targetedSites(model.linearSites(), this.targets).forEach((site, stream) => {
      const { inFeatures: IN, outFeatures: OUT } = site;
      const bound = 1 / Math.sqrt(IN);
      const start = initial?.get(site.path);
      const aData =
        start?.a ?? Float32Array.from({ length: options.r * IN }, () => (random() * 2 - 1) * bound);
      const bData = start?.b ?? new Float32Array(OUT * options.r);
      const name = (tensor: string) => `${site.path}.${tensor}`;
      const weights: DoraWeights = {
        site,
        a: uploadTensor(arena, name('lora_A'), [options.r, IN], aData),
        b: uploadTensor(arena, name('lora_B'), [OUT, options.r], bData),
        magnitude: start?.magnitude
          ? uploadTensor(arena, name('lora_magnitude_vector'), [OUT], start.magnitude)
          : createTensor(arena, name('lora_magnitude_vector'), [OUT]),
        gradA: createTensor(arena, `grad ${name('lora_A')}`, [options.r, IN]),
        gradB: createTensor(arena, `grad ${name('lora_B')}`, [OUT, options.r]),
        gradMagnitude: createTensor(arena, `grad ${name('lora_magnitude_vector')}`, [OUT]),
        stream,
      };
      if (!start?.magnitude) unset.push(weights);
      this.layers.set(site.path, weights);
    });
    this.initialised = this.initMagnitudes(runtime, unset);
    // Whoever awaits `ready()` or plans a step sees a failure; this only keeps it from going unhandled.
    this.initialised.catch(() => {});
  }

  /** A DoRA adaptation whose magnitudes are in place. */
  static async create(
    runtime: Runtime,
    model: AdaptableModel,
    options: DoraOptions,
    initial?: Map<string, DoraStart>,
  ): Promise<DoraAdaptation> {
    const dora = new DoraAdaptation(runtime, model, options, initial);
    await dora.ready();
    return dora;
  }

  /** Resolves once the magnitudes PEFT initialises from the weights (m = n) are submitted. */
  ready(): Promise<void> {
    return this.initialised;
  }

  get scale(): number {
    return loraScale({ rank: this.options.r, alpha: this.options.alpha, rsLora: this.options.useRslora });
  }

  private async initMagnitudes(runtime: Runtime, layers: DoraWeights[]): Promise<void> {
    if (layers.length === 0) return;
    const dispatches = await Promise.all(
      layers.map((w) =>
        doraNorm(runtime, {
          weight: w.site.base.weight,
          weightLayout: w.site.base.layout,
          loraA: w.a,
          loraB: w.b,
          scale: this.scale,
          norm: w.magnitude,
          label: `${w.site.path} dora magnitude init`,
        }),
      ),
    );
    submitDispatches(runtime, dispatches, 'dora magnitude init');
    releaseDispatches(runtime, dispatches);
  }

  baseGrad(): Tensor | undefined {
    return undefined;
  }

  /** Adapted layers by site path, for export. */
  weights(): Map<string, { site: LinearSite; a: Tensor; b: Tensor; magnitude: Tensor }> {
    return this.layers;
  }

  linear(site: LinearSite, ctx: PlanContext): LinearOp {
    const w = this.layers.get(site.path);
    if (!w) return baseLinearOp(ctx.runtime, site.base, {});
    const { runtime, N } = ctx;
    const p = ctx.training ? (this.options.dropout ?? 0) : 0;
    const r = this.options.r;
    const { inFeatures: IN, outFeatures: OUT } = site;
    const lora: LoraLayer = {
      weight: site.base.weight,
      weightLayout: site.base.layout,
      loraA: w.a,
      loraB: w.b,
      config: { rank: r, alpha: this.options.alpha, rsLora: this.options.useRslora, dropout: p },
      rng: this.rng,
      stream: w.stream,
      label: site.path,
    };
    const t = (label: string, shape: number[]) => createTensor(runtime.arena, `${site.path} ${label}`, shape);
    const norm = t('dora norm', [OUT]);
    const u = t('lora u', [N, r]);
    const v = t('dora v', [N, OUT]);
    const normDispatch = () =>
      doraNorm(runtime, {
        weight: site.base.weight,
        weightLayout: site.base.layout,
        loraA: w.a,
        loraB: w.b,
        scale: this.scale,
        norm,
        label: `${site.path}.dora_norm`,
      });
    // g = m / n, formed inside the scale kernels.
    const g = { magnitude: w.magnitude, norm };

    const forward = async (x: Tensor, y: Tensor): Promise<Dispatch[]> => {
      await this.initialised;
      if (p === 0) {
        // v = x·Wᵀ + s·u·Bᵀ (LoRA without the bias), then y = b + g ⊙ v.
        return [
          await normDispatch(),
          ...(await loraLinearForward(runtime, lora, { x, y: v, u })),
          await doraScaleForward(runtime, {
            v,
            ...g,
            y,
            ...(site.base.bias ? { bias: site.base.bias } : {}),
            label: `${site.path}.dora_scale`,
          }),
        ];
      }
      // y = x·Wᵀ + b + s·u·Bᵀ (LoRA with its dropout), v = x̃·Wᵀ + s·u·Bᵀ, then y += (g − 1) ⊙ v.
      const withBias: LoraLayer = { ...lora, ...(site.base.bias ? { bias: site.base.bias } : {}) };
      const [down, lowRankForward] = await loraLinearForward(runtime, withBias, { x, y, u });
      return [
        await normDispatch(),
        down as Dispatch,
        lowRankForward as Dispatch,
        await matmul(runtime, {
          a: x,
          b: site.base.weight,
          out: v,
          transB: site.base.layout !== 'in-out',
          dropout: { p, rng: this.rng, stream: w.stream, operand: 'a' },
          lowRank: { u, v: w.b, vLayout: 'nr', scale: this.scale },
          label: `${site.path}.dora_v`,
        }),
        await doraScaleForward(runtime, {
          v,
          ...g,
          y,
          accumulate: true,
          subtractOne: true,
          label: `${site.path}.dora_scale`,
        }),
      ];
    };

    const backward = async (io: LinearBackwardIo): Promise<Dispatch[]> => {
      if (!io.dx) throw new Error(`DoRA layer ${site.path}: the backward pass needs dx.`);
      const du = t('lora du', [N, r]);
      const scaled = t('dora g·dy', [N, OUT]);
      if (p === 0) {
        return [
          await doraScaleBackward(runtime, {
            dy: io.dy,
            v,
            ...g,
            scaled,
            dm: w.gradMagnitude,
            label: `${site.path}.dora_scale_backward`,
          }),
          ...(await loraLinearBackward(runtime, lora, {
            x: io.x,
            u,
            dy: scaled,
            du,
            dx: io.dx,
            dA: w.gradA,
            dB: w.gradB,
            accumulateDx: io.accumulateDx,
          })),
        ];
      }
      // The low-rank path sees g ⊙ dy (from y's LoRA term and from v); x·Wᵀ sees dy; x̃·Wᵀ sees
      // (g − 1) ⊙ dy, whose input gradient goes through the dropout mask.
      const scaledMinusOne = t('dora (g−1)·dy', [N, OUT]);
      const dxDropped = t('dora dx through x̃·Wᵀ', [N, IN]);
      const drop = { p, rng: this.rng, stream: w.stream };
      const s = this.scale;
      const work = await Promise.all([
        doraScaleBackward(runtime, {
          dy: io.dy,
          v,
          ...g,
          scaled,
          scaledMinusOne,
          dm: w.gradMagnitude,
          label: `${site.path}.dora_scale_backward`,
        }),
        matmulSplitK(runtime, {
          a: scaled,
          b: u,
          out: w.gradB,
          transA: true,
          alpha: s,
          label: `${site.path}.dB`,
        }),
        matmul(runtime, { a: scaled, b: w.b, out: du, alpha: s, label: `${site.path}.du` }),
        matmulSplitK(runtime, {
          a: du,
          b: io.x,
          out: w.gradA,
          transA: true,
          dropout: { ...drop, operand: 'b' },
          label: `${site.path}.dA`,
        }),
        matmul(runtime, {
          a: io.dy,
          b: site.base.weight,
          out: io.dx,
          transB: site.base.layout === 'in-out',
          accumulate: io.accumulateDx,
          lowRank: { u: du, v: w.a, vLayout: 'rn', scale: 1, dropout: drop },
          label: `${site.path}.dx`,
        }),
        matmul(runtime, {
          a: scaledMinusOne,
          b: site.base.weight,
          out: dxDropped,
          transB: site.base.layout === 'in-out',
          label: `${site.path}.dx_dora_base`,
        }),
        dropoutAdd(runtime, { t: dxDropped, out: io.dx, ...drop, label: `${site.path}.dx_dora_mask` }),
      ]);
      return work.flat();
    };
    return { forward, backward };
  }

  trainable(): TrainableEntry[] {
    return [...this.layers.values()].flatMap((w) => [
      { name: `${w.site.path}.lora_A.weight`, param: w.a, grad: w.gradA },
      { name: `${w.site.path}.lora_B.weight`, param: w.b, grad: w.gradB },
      { name: `${w.site.path}.lora_magnitude_vector`, param: w.magnitude, grad: w.gradMagnitude },
    ]);
  }

  /** Sets the step the dropout masks are drawn for. */
  setStep(step: number): void {
    this.rng.setStep(step);
  }
}
