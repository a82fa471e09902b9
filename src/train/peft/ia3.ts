/**
 * IA3 (Liu et al. 2022, "(IA)³", arXiv:2205.05638) as PEFT implements it (peft/tuners/ia3/layer.py,
 * model.py): each targeted linear layer gains a learned vector ia3_l, initialised to ones, so a fresh
 * adapter leaves the model unchanged. A feed-forward module scales its input, y = base(x ⊙ l), with
 * ia3_l [1, IN]; any other module scales its output, bias included, y = l ⊙ (x·Wᵀ + b), with ia3_l
 * [OUT, 1]. Only the vectors train; IA3 has no dropout.
 *
 * Targets and feed-forward modules default to PEFT's for the architecture (Llama k_proj, v_proj,
 * down_proj; Qwen2 q_proj, v_proj, down_proj; GPT-2 c_attn, mlp.c_proj; the feed-forward ones down_proj
 * and mlp.c_proj) and match as PEFT matches them, on the transformers module path (GPT-2's starts
 * "transformer."): a target by "." suffix, a feed-forward module by plain suffix.
 *
 * Backward (the base weights frozen): output scaling keeps pre = x·Wᵀ + b from the forward, then
 * dl = Σ_rows dy ⊙ pre and dx = (dy ⊙ l)·W; input scaling takes dx' = dy·W from the base backward,
 * then dl = Σ_rows dx' ⊙ x and dx = dx' ⊙ l.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { scaleColumns, scaleColumnsBackward } from '../../gpu/kernels/scale-columns/scale-columns';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, type Tensor, uploadTensor } from '../../gpu/tensor';
import { linearBackward, linearForward } from '../models/layers/linear';
import {
  type AdaptableModel,
  type Adaptation,
  baseLinearOp,
  type LinearOp,
  type LinearSite,
  type PlanContext,
  type TrainableEntry,
} from './adaptation';
import {
  matchesFeedforward,
  matchesTarget,
  peftDefaultIa3Targets,
  peftModelType,
} from './format/adapter-keys';
import type { TargetModules } from './targets';

export interface Ia3Options {
  /** Default: PEFT's for the architecture. Names match the transformers path by "." suffix. */
  targetModules?: TargetModules;
  /**
   * Modules whose input, not output, is scaled. Default: PEFT's (down_proj; GPT-2 mlp.c_proj), and with
   * listed targets, those targets that end in one of PEFT's (so "mlp.down_proj" counts; GPT-2's bare
   * "c_proj" does not, and both its c_proj then scale their outputs).
   */
  feedforwardModules?: readonly string[];
}

/** The module path as transformers (and so PEFT) names it: GPT-2's sites lack "transformer.". */
export function peftModulePath(config: { readonly family: string }, sitePath: string): string {
  return config.family === 'gpt2' ? `transformer.${sitePath}` : sitePath;
}

export function ia3Defaults(
  config: { readonly architecture: string },
  targetModules?: TargetModules,
): { targets: TargetModules; feedforward: string[] } {
  const peft = peftDefaultIa3Targets[peftModelType(config)];
  if (targetModules === undefined) return { targets: [...peft.targets], feedforward: [...peft.feedforward] };
  if (targetModules === 'all-linear') return { targets: 'all-linear', feedforward: [...peft.feedforward] };
  return {
    targets: targetModules,
    feedforward: targetModules.filter((t) => matchesFeedforward(peft.feedforward, t)),
  };
}

export interface Ia3Vector {
  site: LinearSite;
  /** Scales the input (feed-forward module) rather than the output. */
  feedforward: boolean;
  /** ia3_l: [1, IN] when feed-forward, else [OUT, 1]. */
  l: Tensor;
  grad: Tensor;
}

export class Ia3Adaptation implements Adaptation {
  readonly method = 'ia3';
  readonly targets: TargetModules;
  readonly feedforward: readonly string[];
  private readonly vectors = new Map<string, Ia3Vector>();
  /** Scratch that lives for one op ([N, width]: x ⊙ l, dy ⊙ l, dx'), shared by every layer. */
  private readonly scratch = new Map<string, Tensor>();

  constructor(
    runtime: Runtime,
    model: AdaptableModel<{ readonly family: string; readonly architecture: string }>,
    options: Ia3Options = {},
    /** Starting vectors by site path (an imported adapter); ones otherwise. */
    initial?: Map<string, Float32Array>,
  ) {
    const defaults = ia3Defaults(model.config, options.targetModules);
    this.targets = defaults.targets;
    this.feedforward = options.feedforwardModules ?? defaults.feedforward;
    const targetList = this.targets;
    if (targetList !== 'all-linear' && !this.feedforward.every((f) => targetList.includes(f))) {
      // PEFT's IA3Config refuses this too; a saved adapter could not be loaded back.
      throw new Error(
        `IA3 feed-forward modules ${JSON.stringify(this.feedforward)} must be among the target modules ` +
          `${JSON.stringify(targetList)}.`,
      );
    }
    const sites = model.linearSites();
    for (const site of sites) {
      const path = peftModulePath(model.config, site.path);
      if (!matchesTarget(this.targets, path)) continue;
      const feedforward = matchesFeedforward(this.feedforward, path);
      const shape = feedforward ? [1, site.inFeatures] : [site.outFeatures, 1];
      const width = feedforward ? site.inFeatures : site.outFeatures;
      const start = initial?.get(site.path) ?? new Float32Array(width).fill(1);
      if (start.length !== width) {
        throw new Error(
          `IA3 vector for ${site.path} has ${start.length} values; this layer needs ${width} ([${shape.join(', ')}]).`,
        );
      }
      this.vectors.set(site.path, {
        site,
        feedforward,
        l: uploadTensor(runtime.arena, `${site.path}.ia3_l`, shape, start),
        grad: createTensor(runtime.arena, `grad ${site.path}.ia3_l`, shape),
      });
    }
    if (this.vectors.size === 0) {
      const names = [...new Set(sites.map((s) => s.module))].join(', ');
      throw new Error(
        `No linear layer matches IA3 target modules ${JSON.stringify(this.targets)}; this model has: ${names}.`,
      );
    }
  }

  baseGrad(): Tensor | undefined {
    return undefined;
  }

  /** The adapted layers by site path, for export. */
  weights(): ReadonlyMap<string, Ia3Vector> {
    return this.vectors;
  }

  private shared(runtime: Runtime, N: number, width: number): Tensor {
    const key = `${N}x${width}`;
    let t = this.scratch.get(key);
    if (!t) {
      t = createTensor(runtime.arena, `ia3 scratch [${N}, ${width}]`, [N, width]);
      this.scratch.set(key, t);
    }
    return t;
  }

  linear(site: LinearSite, ctx: PlanContext): LinearOp {
    const v = this.vectors.get(site.path);
    const { runtime, N } = ctx;
    if (!v) return baseLinearOp(runtime, site.base, {});
    const base = site.base;
    const seq = async (...work: Promise<Dispatch | Dispatch[]>[]) => (await Promise.all(work)).flat();

    if (v.feedforward) {
      // x ⊙ l and, in the backward, dx' = dy·W: each lives for one op, so every layer shares them.
      const scaled = this.shared(runtime, N, site.inFeatures);
      return {
        forward: (x, y) =>
          seq(
            scaleColumns(runtime, { x, scale: v.l, out: scaled, label: `${site.path}.ia3 input` }),
            linearForward(runtime, base, scaled, y),
          ),
        backward: (io) =>
          seq(
            linearBackward(runtime, base, {}, { x: scaled, dy: io.dy, dx: scaled }),
            scaleColumnsBackward(runtime, {
              x: io.x,
              scale: v.l,
              dy: scaled,
              ...(io.dx ? { dx: io.dx } : {}),
              dScale: v.grad,
              accumulateDx: io.accumulateDx,
              label: `${site.path}.ia3`,
            }),
          ),
      };
    }

    if (!ctx.training) {
      return {
        forward: (x, y) =>
          seq(
            linearForward(runtime, base, x, y),
            scaleColumns(runtime, { scale: v.l, out: y, inPlace: true, label: `${site.path}.ia3 output` }),
          ),
        backward: () => {
          throw new Error(`IA3 layer ${site.path}: planned for evaluation, it has no backward.`);
        },
      };
    }
    // The unscaled output, which dl needs in the backward.
    const pre = createTensor(runtime.arena, `${site.path} ia3 unscaled output`, [N, site.outFeatures]);
    const dPre = this.shared(runtime, N, site.outFeatures);
    return {
      forward: (x, y) =>
        seq(
          linearForward(runtime, base, x, pre),
          scaleColumns(runtime, { x: pre, scale: v.l, out: y, label: `${site.path}.ia3 output` }),
        ),
      backward: (io) =>
        seq(
          scaleColumnsBackward(runtime, {
            x: pre,
            scale: v.l,
            dy: io.dy,
            ...(io.dx ? { dx: dPre } : {}),
            dScale: v.grad,
            label: `${site.path}.ia3`,
          }),
          io.dx
            ? linearBackward(
                runtime,
                base,
                {},
                { x: io.x, dy: dPre, dx: io.dx, accumulateDx: io.accumulateDx },
              )
            : Promise.resolve([]),
        ),
    };
  }

  trainable(): TrainableEntry[] {
    return [...this.vectors.values()].map((v) => ({
      name: `${v.site.path}.ia3_l`,
      param: v.l,
      grad: v.grad,
    }));
  }
}
