/**
 * Bottleneck adapters (Houlsby et al. 2019, "Parameter-Efficient Transfer Learning for NLP",
 * https://arxiv.org/abs/1902.00751), which PEFT does not have; files in Whetstone's own format
 * (peft/format/bottleneck-format.ts and its README). After a block's attention output projection and
 * after its feed-forward output projection, before the residual add, the sublayer output h [N, C]
 * becomes
 *   h + up(act(down(h))),   down(x) = x·Wdᵀ + bd,  Wd [m, C];   up(z) = z·Wuᵀ + bu,  Wu [C, m]
 * with m = floor(C / reduction_factor). Only Wd, bd, Wu, bu train; every base weight stays frozen.
 * Initialised near identity as Houlsby: Wd from a zero-mean normal with std 1e-2 truncated to two
 * standard deviations (AdapterHub's "houlsby" init), biases zero, and Wu exactly zero, so a fresh adapter
 * leaves the model unchanged (AdapterHub's "mam_adapter" init zeroes up the same way).
 *
 * Backward, from dy [N, C]: dWu = dyᵀ·a, dbu = Σ dy, da = dy·Wu; dh1 = act'(h1)⊙da; dWd = dh1ᵀ·x,
 * dbd = Σ dh1, dx = dh1·Wd + dy. Dimension letters: N rows, C width, m bottleneck width.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { activation, activationBackward } from '../../gpu/kernels/activation/activation';
import { add } from '../../gpu/kernels/add/add';
import { gelu, geluBackward } from '../../gpu/kernels/gelu/gelu';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, type Tensor, uploadTensor } from '../../gpu/tensor';
import { type Linear, linearBackward, linearForward } from '../models/layers/linear';
import { type Random, seededRandom } from '../seeded-random';
import {
  type Adaptation,
  baseLinearOp,
  type LinearOp,
  type LinearSite,
  type PlanContext,
  type SublayerOp,
  type SublayerSite,
  type TrainableEntry,
} from './adaptation';
import {
  type BottleneckAdapterConfig,
  type BottleneckPosition,
  bottleneckAdapterConfig,
  bottleneckKey,
  type NonLinearity,
} from './format/bottleneck-format';

export interface BottleneckOptions {
  /** C / m; m = floor(C / reductionFactor) must be at least 1. */
  reductionFactor: number;
  /** Default relu, as the format's. */
  nonLinearity?: NonLinearity;
  /** Default both, after attention and after the feed-forward block. */
  positions?: readonly BottleneckPosition[];
  /** Seeds the initialisation of the down projections. */
  seed?: number;
  /** Standard deviation of the down projections' truncated normal initialisation; Houlsby's 1e-2. */
  initStd?: number;
}

/** One adapter's parameters and gradients; `down` and `up` are nn.Linear layers ([out, in]). */
interface BottleneckWeights {
  /** "adapters.layers.{i}.{position}" */
  name: string;
  layer: number;
  position: BottleneckPosition;
  down: Linear & { bias: Tensor }; // weight [m, C], bias [m]
  up: Linear & { bias: Tensor }; // weight [C, m], bias [C]
  grads: { downWeight: Tensor; downBias: Tensor; upWeight: Tensor; upBias: Tensor };
}

export class BottleneckInitError extends Error {
  override readonly name = 'BottleneckInitError';
}

/** A zero-mean normal sample truncated to [−2·std, 2·std] (Box–Muller, redrawn outside the bounds). */
function truncatedNormal(random: Random, std: number): number {
  for (;;) {
    const u = 1 - random();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    if (Math.abs(z) <= 2) return z * std;
  }
}

export class BottleneckAdaptation implements Adaptation {
  readonly method = 'bottleneck';
  /** The adapter's settings as its file states them (no base model named). */
  readonly config: BottleneckAdapterConfig;
  private readonly adapters = new Map<string, BottleneckWeights>();

  constructor(
    runtime: Runtime,
    model: { readonly config: { readonly C: number; readonly L: number; readonly architecture: string } },
    readonly options: BottleneckOptions,
    /** Starting tensors by format key (an imported adapter); Houlsby's initialisation otherwise. */
    initial?: ReadonlyMap<string, Float32Array>,
  ) {
    this.config = bottleneckAdapterConfig(model.config, options);
    const { C, L } = model.config;
    const m = this.config.bottleneckSize;
    const random = seededRandom(options.seed ?? 0);
    const std = options.initStd ?? 1e-2;
    const a = runtime.arena;
    const start = (key: string, shape: number[], fresh: () => Float32Array) => {
      const data = initial ? initial.get(key) : fresh();
      const size = shape.reduce((x, y) => x * y, 1);
      if (data?.length !== size) {
        throw new BottleneckInitError(
          `Starting bottleneck adapter: ${key} must hold ${size} values ([${shape.join(', ')}]), got ${data ? data.length : 'none'}.`,
        );
      }
      return uploadTensor(a, key, shape, data);
    };
    const grad = (key: string, shape: number[]) => createTensor(a, `grad ${key}`, shape);
    for (let layer = 0; layer < L; layer++) {
      for (const position of this.config.positions) {
        const key = (p: 'down' | 'up', w: 'weight' | 'bias') => bottleneckKey(layer, position, p, w);
        const name = `adapters.layers.${layer}.${position}`;
        this.adapters.set(`${layer}.${position}`, {
          name,
          layer,
          position,
          down: {
            name: `${name}.down`,
            weight: start(key('down', 'weight'), [m, C], () =>
              Float32Array.from({ length: m * C }, () => truncatedNormal(random, std)),
            ),
            bias: start(key('down', 'bias'), [m], () => new Float32Array(m)),
            layout: 'out-in',
          },
          up: {
            name: `${name}.up`,
            weight: start(key('up', 'weight'), [C, m], () => new Float32Array(C * m)),
            bias: start(key('up', 'bias'), [C], () => new Float32Array(C)),
            layout: 'out-in',
          },
          grads: {
            downWeight: grad(key('down', 'weight'), [m, C]),
            downBias: grad(key('down', 'bias'), [m]),
            upWeight: grad(key('up', 'weight'), [C, m]),
            upBias: grad(key('up', 'bias'), [C]),
          },
        });
      }
    }
  }

  baseGrad(): Tensor | undefined {
    return undefined;
  }

  linear(site: LinearSite, ctx: PlanContext): LinearOp {
    return baseLinearOp(ctx.runtime, site.base, {});
  }

  sublayer(site: SublayerSite, ctx: PlanContext): SublayerOp | undefined {
    const w = this.adapters.get(`${site.layer}.${site.position}`);
    if (!w) return undefined;
    if (site.width !== this.config.hiddenSize) {
      throw new Error(
        `Bottleneck adapter ${w.name}: built for width ${this.config.hiddenSize}, the model's sublayer is ${site.width}.`,
      );
    }
    const { runtime, N } = ctx;
    const m = this.config.bottleneckSize;
    const kind = this.config.nonLinearity;
    const t = (label: string) => createTensor(runtime.arena, `${w.name} ${label}`, [N, m]);
    // Kept from the forward for the backward: the bottleneck before and after the non-linearity.
    const h1 = t('bottleneck in'); // [N, m]
    const act = t('bottleneck act'); // [N, m]
    // Only a training plan runs the backward.
    const back = ctx.training ? { dact: t('d bottleneck act'), dh1: t('d bottleneck in') } : undefined;
    return {
      forward: (x, y) =>
        Promise.all([
          linearForward(runtime, w.down, x, h1),
          kind === 'gelu_new'
            ? gelu(runtime, { x: h1, out: act })
            : activation(runtime, { kind, x: h1, out: act }),
          linearForward(runtime, w.up, act, y),
          add(runtime, { b: x, out: y, accumulate: true, label: `${w.name} residual` }),
        ]),
      backward: async ({ x, dy, dx }) => {
        if (!back) throw new Error(`Bottleneck adapter ${w.name}: planned without a backward pass.`);
        const g = w.grads;
        const work: Promise<Dispatch | Dispatch[]>[] = [
          linearBackward(
            runtime,
            w.up,
            { weight: g.upWeight, bias: g.upBias },
            { x: act, dy, dx: back.dact },
          ),
          kind === 'gelu_new'
            ? geluBackward(runtime, { x: h1, dy: back.dact, dx: back.dh1 })
            : activationBackward(runtime, { kind, x: h1, dy: back.dact, dx: back.dh1 }),
          // Writes dx whole (no stale contents), then the residual's identity path adds dy.
          linearBackward(
            runtime,
            w.down,
            { weight: g.downWeight, bias: g.downBias },
            { x, dy: back.dh1, dx },
          ),
          add(runtime, { b: dy, out: dx, accumulate: true, label: `${w.name} residual grad` }),
        ];
        return (await Promise.all(work)).flat();
      },
    };
  }

  /** Every adapter's tensors by format key, for export. */
  tensors(): Map<string, Tensor> {
    return new Map(this.trainable().map((e) => [e.name, e.param]));
  }

  trainable(): TrainableEntry[] {
    return [...this.adapters.values()].flatMap((w) => {
      const key = (p: 'down' | 'up', k: 'weight' | 'bias') => bottleneckKey(w.layer, w.position, p, k);
      return [
        { name: key('down', 'weight'), param: w.down.weight, grad: w.grads.downWeight },
        { name: key('down', 'bias'), param: w.down.bias, grad: w.grads.downBias },
        { name: key('up', 'weight'), param: w.up.weight, grad: w.grads.upWeight },
        { name: key('up', 'bias'), param: w.up.bias, grad: w.grads.upBias },
      ];
    });
  }
}
