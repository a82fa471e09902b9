/**
 * What every part of an encoder step's plan shares (bert-embeddings.ts, bert-layer.ts, bert-head.ts):
 * the step's inputs and shapes, a tensor maker, the adaptation's prompt and prefix ops, and the dropout
 * sites. Dropout streams are handed out in the order the parts ask for them (embeddings, then each layer,
 * then the head), so a plan draws the same masks however it is split into files; a site with p = 0, or
 * any site of an evaluation plan, takes no stream and is undefined.
 *
 * Dimension letters: B batch, T tokens, N = B·T rows, C width, NH heads, D = C/NH, F feed-forward width,
 * K classes, L layers, S = prefix tokens + T keys.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { activation, activationBackward } from '../../gpu/kernels/activation/activation';
import type { AttentionDropout } from '../../gpu/kernels/attention/attention';
import { dropout } from '../../gpu/kernels/dropout/dropout';
import type { RngState } from '../../gpu/kernels/dropout/rng-state';
import type { EmbeddingIds } from '../../gpu/kernels/embedding/embedding';
import { gelu, geluBackward } from '../../gpu/kernels/gelu/gelu';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, reshapeTensor, type Tensor } from '../../gpu/tensor';
import type { Adaptation, EmbeddingOp, KeyValuePrefixOp, LinearSite, PlanContext } from '../peft/adaptation';
import type { EncoderConfig } from './bert-config';
import type { Linear } from './layers/linear';
import { type ParamMap, requireTensor } from './params';

export type Work = Promise<Dispatch | Dispatch[]>;

/** A classification step's inputs on the GPU, written by the step before each replay. */
export interface EncoderInputs {
  B: number;
  T: number;
  /** [N] token ids. */
  ids: EmbeddingIds;
  /** [N] position ids (0.. for BERT and DistilBERT; padding_idx + 1.. for RoBERTa). */
  positions: EmbeddingIds;
  /** [N] token types (0 for the first segment, 1 for the second); absent for DistilBERT. */
  tokenTypes?: EmbeddingIds;
  /** [B, T] u32: 1 for real tokens, 0 for padding (hidden as keys). */
  keyMask: Tensor;
  /** [B] row index b·T of each sequence's first token, into the [N, C] hidden state. */
  firstTokens: EmbeddingIds;
  /** Prompt tuning: the first this-many of each row's T tokens are the adaptation's virtual tokens. */
  virtualTokens?: number;
  /** Prefix tuning: `tokens` learned keys and values before each row's own; keyMask [B, tokens + T] u32. */
  prefix?: { tokens: number; keyMask: Tensor };
}

export interface EncoderPlan {
  forward: Dispatch[];
  /** [B, K]. */
  logits: Tensor;
  /** [B, K]: the loss gradient, written before `backward` runs. */
  dlogits: Tensor;
  backward: Dispatch[];
}

/** A hidden-state dropout site: the backward applies the forward's mask to the gradient. */
export interface DropSite {
  forward(x: Tensor, y: Tensor): Work;
  backward(dy: Tensor, dx: Tensor): Work;
}

export interface EncoderPlanKit {
  runtime: Runtime;
  config: EncoderConfig;
  params: ParamMap;
  inputs: EncoderInputs;
  adaptation: Adaptation;
  /** Whether the plan has a backward (a training step). */
  backward: boolean;
  ctx: PlanContext;
  B: number;
  T: number;
  N: number;
  /** Prefix tokens before each row's keys (0 without prefix tuning), and S = KP + T keys. */
  KP: number;
  S: number;
  prompt?: EmbeddingOp;
  prefix?: KeyValuePrefixOp;
  /** A fresh tensor of the arena. */
  t(label: string, shape: number[]): Tensor;
  /** An [N, C] tensor viewed as [B, T, NH, D]. */
  heads(x: Tensor): Tensor;
  dropSite(p: number, label: string): DropSite | undefined;
  /** Attention-probability dropout for one layer's attention kernels (config.dropout.attentionProbs). */
  attentionDropout(): AttentionDropout | undefined;
  /** A LayerNorm's parameters. */
  norm(name: string): { name: string; gamma: Tensor; beta: Tensor };
  /** Where its gradients go: undefined when they do not train (the backward then writes only dx). */
  normGrads(name: string): { dgamma: Tensor | undefined; dbeta: Tensor | undefined };
  activate(x: Tensor, out: Tensor): Work;
  activateBackward(x: Tensor, dy: Tensor, dx: Tensor): Work;
}

/** nn.Linear `name` of the checkpoint, weight [OUT, IN]. */
export function encoderLinear(params: ParamMap, name: string): Linear {
  return {
    name,
    weight: requireTensor(params, `${name}.weight`),
    bias: requireTensor(params, `${name}.bias`),
    layout: 'out-in',
  };
}

export function encoderSite(
  params: ParamMap,
  layer: number,
  path: string,
  inFeatures: number,
  outFeatures: number,
): LinearSite {
  return {
    path,
    module: path.split('.').at(-1) as string,
    layer,
    base: encoderLinear(params, path),
    inFeatures,
    outFeatures,
  };
}

export function createPlanKit(
  runtime: Runtime,
  config: EncoderConfig,
  params: ParamMap,
  inputs: EncoderInputs,
  adaptation: Adaptation,
  backward: boolean,
  options: { dropout?: RngState },
): EncoderPlanKit {
  const c = config;
  const { B, T } = inputs;
  const N = B * T;
  const rng = backward ? options.dropout : undefined;
  let streams = 0;
  if (T > c.P)
    throw new Error(`${c.architecture} takes at most ${c.P} positions per row; this step has ${T}.`);
  const ctx: PlanContext = { runtime, N, training: backward };
  const t = (label: string, shape: number[]) => createTensor(runtime.arena, label, shape);
  const virtualTokens = inputs.virtualTokens ?? 0;
  const prompt =
    virtualTokens > 0 ? adaptation.embeddings?.({ B, T, virtualTokens, width: c.C }, ctx) : undefined;
  if (virtualTokens > 0 && !prompt)
    throw new Error(`${adaptation.method} gave the step virtual tokens but no embedding op.`);
  const KP = inputs.prefix?.tokens ?? 0;
  const prefix =
    KP > 0 ? adaptation.keyValuePrefix?.({ B, layers: c.L, kvHeads: c.NH, headDim: c.D }, ctx) : undefined;
  if (KP > 0 && !prefix)
    throw new Error(`${adaptation.method} has prefix tokens but no key/value prefix op.`);
  return {
    runtime,
    config,
    params,
    inputs,
    adaptation,
    backward,
    ctx,
    B,
    T,
    N,
    KP,
    S: KP + T,
    ...(prompt ? { prompt } : {}),
    ...(prefix ? { prefix } : {}),
    t,
    heads: (x) => reshapeTensor(x, [B, T, c.NH, c.D]),
    dropSite(p, label) {
      if (!rng || p <= 0) return undefined;
      const stream = streams++;
      return {
        forward: (x, y) => dropout(runtime, { x, y, p, rng, stream, label }),
        backward: (dy, dx) => dropout(runtime, { x: dy, y: dx, p, rng, stream, label: `${label} backward` }),
      };
    },
    attentionDropout() {
      const p = c.dropout.attentionProbs;
      if (!rng || p <= 0) return undefined;
      return { p, rng, stream: streams++ };
    },
    norm: (name) => ({
      name,
      gamma: requireTensor(params, `${name}.weight`),
      beta: requireTensor(params, `${name}.bias`),
    }),
    normGrads: (name) => ({
      dgamma: adaptation.baseGrad(`${name}.weight`),
      dbeta: adaptation.baseGrad(`${name}.bias`),
    }),
    activate: (x, out) =>
      c.activation === 'gelu_new'
        ? gelu(runtime, { x, out })
        : activation(runtime, { kind: c.activation, x, out }),
    activateBackward: (x, dy, dx) =>
      c.activation === 'gelu_new'
        ? geluBackward(runtime, { x, dy, dx })
        : activationBackward(runtime, { kind: c.activation, x, dy, dx }),
  };
}
