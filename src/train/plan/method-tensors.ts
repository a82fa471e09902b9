/**
 * A training method's buffers, as src/train/peft/* allocates them: the parameters it adds and their
 * gradients (at construction), and the per-step buffers each adapted layer asks for when a step is
 * planned (LoRA's u and du [N, r], DoRA's norms and scaled outputs, IA3's unscaled outputs, the
 * bottleneck's [N, m] activations). Linear sites mirror the families' `linearSites()` (llama.ts, gpt2.ts).
 */

import type { DecoderConfig } from '../models/config';
import { expectedWeights } from '../models/weight-shapes';
import {
  matchesFeedforward,
  matchesTarget as matchesIa3Target,
  peftDefaultIa3Targets,
  peftModelType,
} from '../peft/format/adapter-keys';
import { prefixDims } from '../peft/format/prompt-layout';
import type { Ledger } from './ledger';
import { type MethodSettings, PlanSettingsError, type TargetModulesSetting } from './method-settings';

export interface PlannedSite {
  /** HF module path, e.g. "model.layers.0.self_attn.q_proj", "h.0.attn.c_attn". */
  path: string;
  module: string;
  inFeatures: number;
  outFeatures: number;
}

export function plannedSites(c: DecoderConfig): PlannedSite[] {
  const site = (path: string, inFeatures: number, outFeatures: number): PlannedSite => ({
    path,
    module: path.split('.').at(-1) as string,
    inFeatures,
    outFeatures,
  });
  const sites: PlannedSite[] = [];
  for (let i = 0; i < c.L; i++) {
    if (c.family === 'gpt2') {
      sites.push(
        site(`h.${i}.attn.c_attn`, c.C, 3 * c.C),
        site(`h.${i}.attn.c_proj`, c.C, c.C),
        site(`h.${i}.mlp.c_fc`, c.C, c.F),
        site(`h.${i}.mlp.c_proj`, c.F, c.C),
      );
    } else {
      const [Q, KVW] = [c.NH * c.D, c.KV * c.D];
      const p = `model.layers.${i}`;
      sites.push(
        site(`${p}.self_attn.q_proj`, c.C, Q),
        site(`${p}.self_attn.k_proj`, c.C, KVW),
        site(`${p}.self_attn.v_proj`, c.C, KVW),
        site(`${p}.self_attn.o_proj`, Q, c.C),
        site(`${p}.mlp.gate_proj`, c.C, c.F),
        site(`${p}.mlp.up_proj`, c.C, c.F),
        site(`${p}.mlp.down_proj`, c.F, c.C),
      );
    }
  }
  return sites;
}

/** PEFT's suffix match (src/train/peft/targets.ts), with its error when nothing matches. */
function loraSites(c: DecoderConfig, targets: TargetModulesSetting | undefined): PlannedSite[] {
  return matchLoraSites(
    plannedSites(c),
    targets ?? (c.family === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj']),
  );
}

/** The sites a LoRA target list names, by PEFT's suffix match; an error names the model's modules. */
export function matchLoraSites(sites: PlannedSite[], chosen: TargetModulesSetting): PlannedSite[] {
  const matched = sites.filter(
    (s) => chosen === 'all-linear' || chosen.some((t) => s.path === t || s.path.endsWith(`.${t}`)),
  );
  if (matched.length === 0) {
    const names = [...new Set(sites.map((s) => s.module))].join(', ');
    throw new PlanSettingsError(
      `No linear layer matches target modules ${JSON.stringify(chosen)}; this model has: ${names}.`,
    );
  }
  return matched;
}

/** IA3's sites and which scale their input (src/train/peft/ia3.ts, with PEFT's defaults). */
function ia3Sites(
  c: DecoderConfig,
  targets: TargetModulesSetting | undefined,
  feedforwardModules: string[] | undefined,
): (PlannedSite & { feedforward: boolean })[] {
  const peft = peftDefaultIa3Targets[peftModelType(c)];
  const chosen: TargetModulesSetting = targets ?? [...peft.targets];
  const feedforward =
    feedforwardModules ??
    (targets === undefined || targets === 'all-linear'
      ? [...peft.feedforward]
      : targets.filter((t) => matchesFeedforward(peft.feedforward, t)));
  const peftPath = (path: string) => (c.family === 'gpt2' ? `transformer.${path}` : path);
  const sites = plannedSites(c)
    .filter((s) => matchesIa3Target(chosen, peftPath(s.path)))
    .map((s) => ({ ...s, feedforward: matchesFeedforward(feedforward, peftPath(s.path)) }));
  if (sites.length === 0)
    throw new PlanSettingsError(`No linear layer matches IA3 target modules ${JSON.stringify(chosen)}.`);
  return sites;
}

export function bottleneckWidth(c: { C: number }, reductionFactor: number): number {
  const m = Math.floor(c.C / reductionFactor);
  if (m < 1)
    throw new PlanSettingsError(
      `reduction factor ${reductionFactor} leaves no bottleneck: floor(${c.C} / ${reductionFactor}) is 0.`,
    );
  return m;
}

/**
 * The parameters the method trains (`trainable`, their shapes) and the ones it adds to the model
 * (`added`), each with a gradient, into the ledger as the adaptation's constructor allocates them.
 */
export function methodParameters(
  c: DecoderConfig,
  m: MethodSettings,
  ledger: Ledger,
): { trainable: number[][] } {
  const trainable: number[][] = [];
  switch (m.method) {
    case 'full': {
      const frozen = m.freezeEmbeddings
        ? [c.family === 'gpt2' ? 'wte.weight' : 'model.embed_tokens.weight', 'wpe.weight']
        : [];
      for (const [name, shape] of expectedWeights(c)) {
        if (frozen.includes(name)) continue;
        ledger.tensor('gradients', `grad ${name}`, shape);
        trainable.push(shape);
      }
      break;
    }
    default:
      peftParameters(decoderPeftShape(c, m), m, ledger, trainable);
  }
  return { trainable };
}

/**
 * What the method's layer ops allocate while one step of N rows is planned (`training`: with its
 * backward). IA3's shared scratch lives on the adaptation, so a second (evaluation) plan of the same
 * N reuses it: `ia3Scratch` carries the widths already made.
 */
export function methodStepBuffers(
  c: DecoderConfig,
  m: MethodSettings,
  N: number,
  training: boolean,
  ledger: Ledger,
  ia3Scratch: Set<string>,
): void {
  peftStepBuffers(decoderPeftShape(c, m), m, N, training, ledger, ia3Scratch);
}

/** The decoder's widths and sites for the PEFT listings below. */
function decoderPeftShape(c: DecoderConfig, m: MethodSettings): PeftModelShape {
  return {
    C: c.C,
    L: c.L,
    tokenDim: m.method === 'prefix' ? prefixDims(c).tokenDim : c.C,
    loraSites: (targets) => loraSites(c, targets),
    ia3Sites: (targets, feedforward) => ia3Sites(c, targets, feedforward),
  };
}

/** What the PEFT methods' parameters depend on: the width, the layers and where each method adapts. */
export interface PeftModelShape {
  C: number;
  L: number;
  /** Prefix tuning's key/value width per layer (KV heads × head size on GQA decoders, C on encoders). */
  tokenDim: number;
  loraSites(targets: TargetModulesSetting | undefined): PlannedSite[];
  ia3Sites(
    targets: TargetModulesSetting | undefined,
    feedforward: string[] | undefined,
  ): (PlannedSite & { feedforward: boolean })[];
}

/**
 * A PEFT method's parameters and gradients, into the ledger and `trainable` in the order the adaptations'
 * constructors allocate them; decoders and encoders differ only in `model`. Full fine-tuning is the
 * caller's.
 */
export function peftParameters(
  model: PeftModelShape,
  m: MethodSettings,
  ledger: Ledger,
  trainable: number[][],
): void {
  const param = (label: string, shape: number[]) => {
    ledger.tensor('adapter', label, shape);
    ledger.tensor('gradients', `grad ${label}`, shape);
    trainable.push(shape);
  };
  switch (m.method) {
    case 'lora':
    case 'dora':
      ledger.bytes('workspace', 'rng', 16);
      for (const s of model.loraSites(m.targetModules)) {
        param(`${s.path}.lora_A`, [m.r, s.inFeatures]);
        param(`${s.path}.lora_B`, [s.outFeatures, m.r]);
        if (m.method === 'dora') param(`${s.path}.lora_magnitude_vector`, [s.outFeatures]);
      }
      break;
    case 'ia3':
      for (const s of model.ia3Sites(m.targetModules, m.feedforwardModules))
        param(`${s.path}.ia3_l`, s.feedforward ? [1, s.inFeatures] : [s.outFeatures, 1]);
      break;
    case 'prompt':
      param('prompt_embeddings', [m.numVirtualTokens, model.C]);
      break;
    case 'prefix': {
      const P = m.numVirtualTokens;
      const W = model.tokenDim;
      const width = model.L * 2 * W;
      const H = m.encoderHiddenSize ?? W;
      ledger.tensor('gradients', 'grad prompt_embeddings', [P, width]);
      ledger.tensor('workspace', 'prefix layer slice and its gradient', [P, W], 2);
      if (!m.prefixProjection) {
        ledger.tensor('adapter', 'prompt_embeddings', [P, width]);
        trainable.push([P, width]);
        break;
      }
      ledger.tensor('activations', 'prefix (MLP output)', [P, width]);
      param('prompt_encoder.embedding.weight', [P, W]);
      param('prompt_encoder.transform.0.weight', [H, W]);
      param('prompt_encoder.transform.0.bias', [H]);
      param('prompt_encoder.transform.2.weight', [width, H]);
      param('prompt_encoder.transform.2.bias', [width]);
      ledger.tensor('activations', 'prefix MLP hidden, tanh and their gradients', [P, H], 4);
      break;
    }
    case 'adapter': {
      const mw = bottleneckWidth(model, m.reductionFactor);
      const positions = m.positions ?? ['attention', 'ffn'];
      for (let i = 0; i < model.L; i++) {
        for (const position of positions) {
          const name = `adapters.layers.${i}.${position}`;
          param(`${name}.down.weight`, [mw, model.C]);
          param(`${name}.down.bias`, [mw]);
          param(`${name}.up.weight`, [model.C, mw]);
          param(`${name}.up.bias`, [model.C]);
        }
      }
      break;
    }
  }
}

/**
 * What a PEFT method's layer ops allocate while one step of N rows is planned (`training`: with its
 * backward): LoRA's u and du [N, r], DoRA's norms and scaled outputs, IA3's unscaled outputs and shared
 * scratch, the bottleneck's [N, m]. The same src/train/peft classes serve decoders and encoders.
 * IA3's shared scratch lives on the adaptation, so a second (evaluation) plan of the same N reuses it:
 * `ia3Scratch` carries the [N, width] already made.
 */
export function peftStepBuffers(
  model: PeftModelShape,
  m: MethodSettings,
  N: number,
  training: boolean,
  ledger: Ledger,
  ia3Scratch: Set<string>,
): void {
  if (m.method === 'lora' || m.method === 'dora') {
    for (const s of model.loraSites(m.targetModules)) {
      const [IN, OUT] = [s.inFeatures, s.outFeatures];
      ledger.tensor('activations', `${s.path} lora u`, [N, m.r]);
      if (m.method === 'lora') {
        ledger.tensor('workspace', `${s.path} lora du`, [N, m.r]);
        continue;
      }
      ledger.tensor('workspace', `${s.path} dora norm`, [OUT]);
      ledger.tensor('activations', `${s.path} dora v`, [N, OUT]);
      if (!training) continue;
      ledger.tensor('workspace', `${s.path} lora du`, [N, m.r]);
      ledger.tensor('workspace', `${s.path} dora g·dy`, [N, OUT]);
      if ((m.dropout ?? 0) > 0) {
        ledger.tensor('workspace', `${s.path} dora (g−1)·dy`, [N, OUT]);
        ledger.tensor('workspace', `${s.path} dora dx through x̃·Wᵀ`, [N, IN]);
      }
    }
  }
  if (m.method === 'ia3') {
    const shared = (width: number) => {
      const key = `${N}x${width}`;
      if (ia3Scratch.has(key)) return;
      ia3Scratch.add(key);
      ledger.tensor('workspace', `ia3 scratch [${N}, ${width}]`, [N, width]);
    };
    for (const s of model.ia3Sites(m.targetModules, m.feedforwardModules)) {
      if (s.feedforward) shared(s.inFeatures);
      else if (training) {
        ledger.tensor('activations', `${s.path} ia3 unscaled output`, [N, s.outFeatures]);
        shared(s.outFeatures);
      }
    }
  }
  if (m.method === 'adapter') {
    const mw = bottleneckWidth(model, m.reductionFactor);
    const sublayers = model.L * (m.positions ?? ['attention', 'ffn']).length;
    ledger.tensor('activations', 'bottleneck in and act', [N, mw], 2 * sublayers);
    if (training) ledger.tensor('workspace', 'd bottleneck act and in', [N, mw], 2 * sublayers);
  }
}
