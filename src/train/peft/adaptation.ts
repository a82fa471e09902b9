/**
 * How a training method changes a model: the one small interface every method implements (full
 * fine-tuning, LoRA and its variants, IA3, ...). The model files ask it for each linear layer's op and
 * for the gradients of base parameters; the optimizer asks it what trains.
 *
 * A linear site is one nn.Linear (or GPT-2 Conv1D) of the base model, named by its Hugging Face module
 * path; `module` is the last part of that path, which PEFT's target_modules match.
 */
import type { Dispatch } from '../../gpu/dispatch';
import type { Runtime } from '../../gpu/runtime';
import type { Tensor } from '../../gpu/tensor';
import { type Linear, type LinearGrads, linearBackward, linearForward } from '../models/layers/linear';

export interface LinearSite {
  /** e.g. "model.layers.3.self_attn.q_proj", "h.0.attn.c_attn". */
  path: string;
  /** e.g. "q_proj", "c_attn"; GPT-2 has two "c_proj" (attn and mlp). */
  module: string;
  layer: number;
  base: Linear;
  /** [IN, OUT] of the layer. */
  inFeatures: number;
  outFeatures: number;
}

export interface PlanContext {
  runtime: Runtime;
  /** Rows (batch × tokens) the planned step feeds through each layer. */
  N: number;
  /** A training step (dropout on) rather than evaluation or generation (dropout off, as model.eval()). */
  training: boolean;
}

export interface LinearBackwardIo {
  x: Tensor;
  dy: Tensor;
  dx?: Tensor;
  accumulateDx?: boolean;
}

export interface LinearOp {
  forward(x: Tensor, y: Tensor): Promise<Dispatch[]>;
  /** Gradients of whatever trains in this layer, and dx when asked. */
  backward(io: LinearBackwardIo): Promise<Dispatch[]>;
}

export interface TrainableEntry {
  /** The name it is saved under. */
  name: string;
  param: Tensor;
  grad: Tensor;
}

/** The output of a block's attention or feed-forward sublayer, before its residual add. */
export interface SublayerSite {
  layer: number;
  position: 'attention' | 'ffn';
  /** C, the width of the residual stream. */
  width: number;
}

/** y = x + adapter(x) on a sublayer's output (bottleneck adapters); its backward gives dx from dy. */
export interface SublayerOp {
  forward(x: Tensor, y: Tensor): Promise<Dispatch[]>;
  backward(io: { x: Tensor; dy: Tensor; dx: Tensor }): Promise<Dispatch[]>;
}

/** The input embeddings [B·T, C] of a step whose every sequence starts with `virtualTokens` placeholder rows. */
export interface EmbeddingSite {
  B: number;
  /** Rows per sequence, the virtual tokens included. */
  T: number;
  virtualTokens: number;
  /** C. */
  width: number;
}

/** Prompt tuning: writes the virtual tokens' embeddings; its backward takes the input embeddings' gradient. */
export interface EmbeddingOp {
  forward(h0: Tensor): Promise<Dispatch[]>;
  backward(dh0: Tensor): Promise<Dispatch[]>;
}

/** Prefix tuning: every layer's learned keys and values, for steps of B sequences. */
export interface KeyValuePrefixSite {
  B: number;
  /** L, KV and D of the model. */
  layers: number;
  kvHeads: number;
  headDim: number;
}

/**
 * Prefix tuning's op. Keys and values are [B, S, KV, D] with the prefix in rows [0, P) of every sequence
 * (the model puts its own after them); dk and dv are their gradients.
 */
export interface KeyValuePrefixOp {
  /** First in the forward pass: computes every layer's prefix (the reparameterisation MLP, if any). */
  prepare(): Promise<Dispatch[]>;
  /** Writes layer `layer`'s prefix over rows [0, P) of each sequence of k and v. */
  write(layer: number, k: Tensor, v: Tensor): Promise<Dispatch[]>;
  /** Takes layer `layer`'s prefix gradient, summed over the batch, from rows [0, P) of dk and dv. */
  backward(layer: number, dk: Tensor, dv: Tensor): Promise<Dispatch[]>;
  /** Last in the backward pass: the gradients of whatever trains (through the MLP, if any). */
  finish(): Promise<Dispatch[]>;
}

/**
 * What a method reads of the model it adapts, decoder or encoder: its linear layers, and the config
 * fields its defaults come from (`Config`, the family alone unless a method needs more).
 */
export interface AdaptableModel<Config = { readonly family: string }> {
  readonly config: Config;
  linearSites(): LinearSite[];
}

export interface Adaptation {
  readonly method: string;
  /**
   * Prefix tuning: this many learned key/value pairs sit before every sequence's own in every layer.
   * DecoderStep then starts the real tokens at position P and `keyValuePrefix` supplies the pairs.
   */
  readonly prefixTokens?: number;
  keyValuePrefix?(site: KeyValuePrefixSite, ctx: PlanContext): KeyValuePrefixOp;
  /**
   * Prompt tuning: learned embeddings before every sequence. DecoderStep then runs each row with this
   * many placeholder tokens in front (attended, not scored) and `embeddings` fills them in.
   */
  readonly virtualTokens?: number;
  /** The op over the input embeddings of a step with virtual tokens, right after the embedding lookup. */
  embeddings?(site: EmbeddingSite, ctx: PlanContext): EmbeddingOp;
  /** An op inserted after a sublayer, or undefined to leave it as it is. */
  sublayer?(site: SublayerSite, ctx: PlanContext): SublayerOp | undefined;
  /** The gradient of a base parameter that trains (full fine-tuning); undefined when it is frozen. */
  baseGrad(name: string): Tensor | undefined;
  linear(site: LinearSite, ctx: PlanContext): LinearOp;
  trainable(): TrainableEntry[];
}

/** The base layer as it is: trains when `grads` are given, otherwise only passes dx through. */
export function baseLinearOp(runtime: Runtime, layer: Linear, grads: LinearGrads): LinearOp {
  return {
    forward: async (x, y) => [await linearForward(runtime, layer, x, y)],
    backward: (io) => linearBackward(runtime, layer, grads, io),
  };
}

/** No training: the base model as loaded (evaluation and generation). */
export const frozen: Adaptation = {
  method: 'none',
  baseGrad: () => undefined,
  linear: (site, ctx) => baseLinearOp(ctx.runtime, site.base, {}),
  trainable: () => [],
};
