/**
 * One training (or evaluation) step of a decoder LM as recorded dispatches:
 *   family forward (ids → final normed hidden xf) → LM head → fused cross-entropy (dlogits in place of
 *   the logits) → LM head backward → family backward (→ every parameter's gradient).
 * The family files (llama.ts, gpt2.ts) plan their blocks; this file owns the batch inputs, the head,
 * the loss and the replay. Labels follow HF's causal-LM loss: position t is scored on token t + 1.
 * With prompt tuning (an adaptation with `virtualTokens` P), callers still pass [B, T] batches: each row
 * runs as P placeholder rows (attended, labels -100, overwritten by the adaptation's learned embeddings)
 * followed by its T tokens, as PeftModelForCausalLM.forward builds it; so the last virtual token is
 * scored on the row's first label.
 * With prefix tuning (an adaptation with `prefixTokens` P), every layer's attention finds P learned keys
 * and values before the sequence's own, as PEFT passes them in past_key_values: the real tokens then sit
 * at positions P.. (transformers counts the cached prefix; PEFT offsets given position_ids by P), the key
 * mask gains P leading ones, and the labels stay as they are. The KV cache of generation starts with them.
 * With gradient checkpointing the families keep only each layer's input and recompute the rest of the
 * layer's activations just before its backward (FamilyPlanOptions).
 *
 * Dimension letters: B batch, T tokens per row, C width, V vocabulary.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { setCrossEntropyScale } from '../../gpu/kernels/cross-entropy/cross-entropy';
import {
  type EmbeddingIds,
  uploadEmbeddingIds,
  writeEmbeddingIds,
} from '../../gpu/kernels/embedding/embedding';
import type { PreferenceLossType } from '../../gpu/kernels/preference-loss/preference-loss';
import { RecordedStep } from '../../gpu/recorded-step';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, downloadTensor, type Tensor, uploadTensor, writeTensor } from '../../gpu/tensor';
import type {
  Adaptation,
  KeyValuePrefixOp,
  KeyValuePrefixSite,
  LinearSite,
  PlanContext,
} from '../peft/adaptation';
import { frozen } from '../peft/adaptation';
import { PreferenceHead } from '../preference/preference-head';
import type { DecoderConfig } from './config';
import type { Linear } from './layers/linear';
import { keptLogits, lmHeadAndLoss } from './lm-head';
import { lmHeadChunkRows } from './lm-head-chunks';
import { type ParamMap, requireTensor } from './params';
import { rowTokenLimit, rowTooLong } from './row-limit';
import { flatBatch, positionIds, type TokenBatch } from './token-batch';
import { embeddingName } from './weight-shapes';

export { labelTokenCount, positionIds, type TokenBatch } from './token-batch';

export interface StepInputs {
  B: number;
  T: number;
  ids: EmbeddingIds;
  /** [B, T] u32: 1 for real tokens, 0 for padding. */
  keyMask: Tensor;
  /** [B·T] i32, already shifted: the token each position must predict, or -100. */
  labels: Tensor;
  /** [B] u32: the position of each row's first token (0 in training; the cache length when decoding). */
  positionOffsets: Tensor;
  /** Position ids [B·T] with their index, for models with learned positions (GPT-2). */
  positions?: EmbeddingIds;
  /** Generation only: append each layer's keys and values here, and (`attend`) read them back. */
  cache?: KvCache;
  /** Prompt tuning: the first this many of each row's T tokens are virtual (their ids are placeholders). */
  virtualTokens?: number;
  /** Prefix tuning: P learned keys and values before each row's own, and the key mask [B, P + T] over both. */
  prefix?: { tokens: number; keyMask: Tensor };
}

export interface FamilyPlanOptions {
  /** Keep only each layer's input; recompute its activations during the backward pass. */
  gradientCheckpointing?: boolean;
}

/** A step's prefix (prefix tuning): P, the adaptation's op and the key mask; P = 0 without one. */
export function prefixOf(
  inputs: StepInputs,
  adaptation: Adaptation,
  site: KeyValuePrefixSite,
  ctx: PlanContext,
): { P: number; op?: KeyValuePrefixOp; keyMask?: Tensor } {
  if (!inputs.prefix) return { P: 0 };
  const op = adaptation.keyValuePrefix?.(site, ctx);
  if (!op) throw new Error(`${adaptation.method} has prefix tokens but no key/value prefix op.`);
  return { P: inputs.prefix.tokens, op, keyMask: inputs.prefix.keyMask };
}

/** Per-layer key and value caches [B, S, KV, D], and which of the S slots hold a token. */
export interface KvCache {
  k: Tensor[];
  v: Tensor[];
  /** [B, S] u32. */
  mask: Tensor;
  /** Attend over the cache (decoding one token) rather than over this step's own keys (the prompt). */
  attend: boolean;
  /**
   * Sliding-window models: [B, S] u32, the slots within the window of the token being decoded, which
   * the sliding layers attend over instead of `mask`.
   */
  window?: { tokens: number; mask: Tensor };
}

export interface FamilyPlan {
  forward: Dispatch[];
  /** [B·T, C]: the final normed hidden state the LM head reads. */
  xf: Tensor;
  /** Its gradient, written by the head's backward before `backward` runs. */
  dxf: Tensor;
  backward: Dispatch[];
}

export interface DecoderModel {
  readonly config: DecoderConfig;
  readonly params: ParamMap;
  /** Every linear layer of the base model, for the training method to adapt. */
  linearSites(): LinearSite[];
  /** Plans the family's part of a step: the forward, and the backward when asked. */
  plan(
    runtime: Runtime,
    inputs: StepInputs,
    adaptation: Adaptation,
    backward: boolean,
    options?: FamilyPlanOptions,
  ): Promise<FamilyPlan>;
}

export interface StepOptions {
  /** The training method (or a loaded adapter); the base model as it is when absent. */
  adaptation?: Adaptation;
  /** Plan the backward pass: gradients for whatever the adaptation trains. */
  backward?: boolean;
  /**
   * Stop at the logits (no loss, no backward): of every row, for checking logits, or ('last') of each
   * sequence's last row only, which is all a generation's prefill reads (a 262,144-token vocabulary's
   * logits of a long prompt would otherwise take gigabytes).
   */
  keepLogits?: boolean | 'last';
  cache?: KvCache;
  /** Recompute each layer's activations in the backward pass instead of keeping them. */
  gradientCheckpointing?: boolean;
  /** Rows per LM head chunk; lm-head-chunks.ts's budget when absent (tests set a small one). */
  lmHeadChunkRows?: number;
  /**
   * DPO instead of the mean cross-entropy: the batch's first half of rows are chosen sequences and the
   * second half rejected ones (preference-head.ts); the loss is DPO's (TRL's loss_type, sigmoid when
   * absent) at this β.
   */
  preference?: { beta: number; lossType?: PreferenceLossType };
}

export class DecoderStep {
  private constructor(
    private readonly runtime: Runtime,
    readonly inputs: StepInputs,
    readonly recorded: RecordedStep,
    private readonly lossRows: Tensor,
    /** Each LM head chunk's cross-entropy; none for a step that keeps its logits. */
    private readonly crossEntropyDispatches: Dispatch[],
    /** [N, V], or [B, V] of the last rows, only for a step planned with keepLogits. */
    private readonly logits: { tensor: Tensor; lastRows: boolean } | undefined,
    /** Prompt tuning's virtual tokens in front of each row (0 for decode steps: the cache holds them). */
    readonly virtualTokens = 0,
    /** Prefix tuning's key/value pairs before each row (0 for decode steps: the cache holds them). */
    readonly prefixTokens = 0,
    /** Gemma 2's final_logit_softcapping, applied to the logits as they are read. */
    private readonly logitSoftcap?: number,
    /** A DPO step's own buffers and kernel; absent for cross-entropy. */
    readonly preference?: PreferenceHead,
    private labelCount = 0,
  ) {}

  static async plan(
    runtime: Runtime,
    model: DecoderModel,
    shape: { B: number; T: number },
    options: StepOptions = {},
  ) {
    const adaptation = options.adaptation ?? frozen;
    // A decode step attends over a cache that already holds the virtual tokens.
    const P = options.cache?.attend ? 0 : (adaptation.virtualTokens ?? 0);
    if (P > 0 && !adaptation.embeddings)
      throw new Error(`${adaptation.method} has virtual tokens but no embeddings op to fill them in.`);
    // Likewise for a prefix; its tokens come first in position order too.
    const KP = options.cache?.attend ? 0 : (adaptation.prefixTokens ?? 0);
    if (KP > 0 && !adaptation.keyValuePrefix)
      throw new Error(`${adaptation.method} has prefix tokens but no key/value prefix op.`);
    const B = shape.B;
    const T = P + shape.T;
    // A row past the model's hard limit (GPT-2's learned positions) is refused by name before
    // anything is allocated: the cache's slots when generating, else the prefix and the row.
    const limit = rowTokenLimit(model.config);
    const span = options.cache?.k[0]?.shape[1] ?? KP + T;
    if (limit && span > limit.tokens)
      throw rowTooLong(limit, span, options.cache ? 'the cache holds' : 'this step holds');
    const { V, C } = model.config;
    const N = B * T;
    const inputs: StepInputs = {
      B,
      T,
      ids: uploadEmbeddingIds(runtime, 'input ids', [N], new Uint32Array(N), V),
      keyMask: uploadTensor(runtime.arena, 'attention mask', [B, T], new Uint32Array(N).fill(1)),
      labels: uploadTensor(runtime.arena, 'labels', [N], new Int32Array(N).fill(-100)),
      positionOffsets: uploadTensor(runtime.arena, 'position offsets', [B], new Uint32Array(B).fill(KP)),
      ...(model.config.positions === 'learned'
        ? { positions: uploadEmbeddingIds(runtime, 'positions', [N], positionIds(B, T, KP), model.config.P) }
        : {}),
      ...(options.cache ? { cache: options.cache } : {}),
      ...(P > 0 ? { virtualTokens: P } : {}),
      ...(KP > 0
        ? {
            prefix: {
              tokens: KP,
              keyMask: uploadTensor(
                runtime.arena,
                'attention mask with prefix',
                [B, KP + T],
                new Uint32Array(B * (KP + T)).fill(1),
              ),
            },
          }
        : {}),
    };
    const backward = Boolean(options.backward) && !options.keepLogits;
    if (options.cache && backward)
      throw new Error('A KV cache is for generation; it cannot be planned with gradients.');
    const family = await model.plan(runtime, inputs, adaptation, backward, {
      gradientCheckpointing: Boolean(options.gradientCheckpointing),
    });
    const headName = model.config.tieWordEmbeddings ? embeddingName(model.config) : 'lm_head.weight';
    const head: Linear = { name: 'lm_head', weight: requireTensor(model.params, headName), layout: 'out-in' };
    const lossRows = createTensor(runtime.arena, 'loss per token', [N]);
    if (options.preference && options.keepLogits)
      throw new Error('A preference step scores its logits; it cannot keep them.');
    const preference =
      options.preference &&
      (await PreferenceHead.plan(runtime, {
        lossRows,
        labels: inputs.labels,
        rows: B,
        ...options.preference,
      }));
    const dispatches = [...family.forward];
    // Generation reads the logits; everything else scores them, chunk by chunk past the budget.
    const lastRows = options.keepLogits === 'last';
    const logits = options.keepLogits
      ? createTensor(runtime.arena, lastRows ? 'logits of the last rows' : 'logits', [lastRows ? B : N, V])
      : undefined;
    const scored = logits
      ? undefined
      : await lmHeadAndLoss(runtime, {
          head,
          xf: family.xf,
          labels: inputs.labels,
          lossRows,
          softcap: model.config.gemma?.logitSoftcap,
          ...(backward ? { backward: { dxf: family.dxf, headGrad: adaptation.baseGrad(headName) } } : {}),
          chunkRows: options.lmHeadChunkRows ?? lmHeadChunkRows(N, V),
          ...(preference
            ? {
                sequenceWeights: {
                  between: [preference.dispatch],
                  rowScales: preference.rowScales,
                  rowsPerScale: T,
                },
              }
            : {}),
        });
    if (logits) dispatches.push(...(await keptLogits(runtime, head, family.xf, logits, lastRows ? T : 0)));
    if (scored) dispatches.push(...scored.dispatches);
    if (backward) dispatches.push(...family.backward);
    if (family.xf.shape.at(-1) !== C)
      throw new Error('The family plan gave a hidden state of the wrong width.');
    const recorded = new RecordedStep(runtime, `${model.config.architecture} step [${B}, ${T}]`, dispatches);
    const softcap = model.config.gemma?.logitSoftcap;
    return new DecoderStep(
      runtime,
      inputs,
      recorded,
      lossRows,
      scored?.crossEntropy ?? [],
      logits && { tensor: logits, lastRows },
      P,
      KP,
      softcap,
      preference,
    );
  }

  get dispatchCount(): number {
    return this.recorded.dispatchCount;
  }

  /** Uploads a batch and runs the step; the loss is read with `loss()`. */
  run(batch: TokenBatch, options: { normalizeBy?: number } = {}): void {
    const { B, T } = this.inputs;
    const P = this.virtualTokens;
    const flat = flatBatch(batch, B, T - P, P);
    // Gradient accumulation divides by the label tokens of all micro-batches of the step, so the
    // accumulated gradient is that of the mean loss over the whole step (transformers' num_items_in_batch).
    const normalizeBy = options.normalizeBy ?? flat.counted;
    writeEmbeddingIds(this.runtime, this.inputs.ids, flat.ids);
    writeTensor(this.runtime.device, this.inputs.keyMask, flat.mask);
    if (this.inputs.prefix) {
      // The prefix keys are visible to every query: P ones, then the row's own mask.
      const KP = this.prefixTokens;
      const S = KP + T;
      const withPrefix = new Uint32Array(B * S).fill(1);
      for (let b = 0; b < B; b++) withPrefix.set(flat.mask.subarray(b * T, (b + 1) * T), b * S + KP);
      writeTensor(this.runtime.device, this.inputs.prefix.keyMask, withPrefix);
    }
    writeTensor(this.runtime.device, this.inputs.labels, flat.labels);
    this.labelCount = flat.counted;
    // A preference step's pair weights carry its normalisation (PreferenceHead.write).
    const scale = this.preference ? 1 : normalizeBy === 0 ? 0 : 1 / normalizeBy;
    for (const ce of this.crossEntropyDispatches) setCrossEntropyScale(this.runtime, ce, scale);
    this.recorded.replay();
  }

  /**
   * One decoding step with a KV cache: `token` at `position`, attending over cache slots [0, position]
   * (a sliding layer over the last `window.tokens` of them).
   * Only for a step planned with B = T = 1 and an attending cache.
   */
  decode(token: number, position: number): void {
    const { cache, B, T } = this.inputs;
    if (!cache?.attend || B !== 1 || T !== 1)
      throw new Error('decode() needs a one-token step planned with an attending KV cache.');
    const slots = cache.mask.size;
    if (position >= slots)
      throw new Error(`The KV cache holds ${slots} tokens; position ${position} is past its end.`);
    writeEmbeddingIds(this.runtime, this.inputs.ids, Uint32Array.of(token));
    if (this.inputs.positions)
      writeEmbeddingIds(this.runtime, this.inputs.positions, Uint32Array.of(position));
    writeTensor(this.runtime.device, this.inputs.positionOffsets, Uint32Array.of(position));
    writeTensor(
      this.runtime.device,
      cache.mask,
      Uint32Array.from({ length: slots }, (_, s) => (s <= position ? 1 : 0)),
    );
    const window = cache.window;
    if (window) {
      const visible = (s: number) => s <= position && position - s < window.tokens;
      writeTensor(
        this.runtime.device,
        window.mask,
        Uint32Array.from({ length: slots }, (_, s) => (visible(s) ? 1 : 0)),
      );
    }
    this.recorded.replay();
  }

  /**
   * [B·T, V] logits of the last run (the virtual tokens' left out; soft-capped where the model caps them),
   * or [B, V] for a step planned with keepLogits 'last'; only for a step planned with `keepLogits`.
   */
  async readLogits(): Promise<Float32Array> {
    if (!this.logits)
      throw new Error('This step overwrites its logits with their gradient; plan it with keepLogits.');
    const all = await downloadTensor(this.runtime.arena, this.logits.tensor);
    // Soft-capped on the host: the logits are read back here anyway, and the cap is monotonic, so only
    // sampling and scores see it.
    const cap = this.logitSoftcap;
    if (cap !== undefined)
      for (let i = 0; i < all.length; i++) all[i] = cap * Math.tanh((all[i] as number) / cap);
    const P = this.virtualTokens;
    if (P === 0 || this.logits.lastRows) return all;
    const { B, T } = this.inputs;
    const V = all.length / (B * T);
    const real = new Float32Array(B * (T - P) * V);
    for (let b = 0; b < B; b++) real.set(all.subarray((b * T + P) * V, (b + 1) * T * V), b * (T - P) * V);
    return real;
  }

  /** HF's loss: the mean cross-entropy over the labels that are not -100. */
  async loss(): Promise<{ loss: number; tokens: number }> {
    const rows = await downloadTensor(this.runtime.arena, this.lossRows);
    let sum = 0;
    for (const value of rows) sum += value;
    return { loss: this.labelCount === 0 ? 0 : sum / this.labelCount, tokens: this.labelCount };
  }
}
