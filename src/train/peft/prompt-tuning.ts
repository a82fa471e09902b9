/**
 * Prompt tuning (Lester et al. 2021, "The Power of Scale for Parameter-Efficient Prompt Tuning") as PEFT
 * does it for CAUSAL_LM (peft/tuners/prompt_tuning/model.py, PromptEmbedding; peft_model.py,
 * PeftModelForCausalLM.forward): P learned input embeddings, `prompt_embeddings` [P, C], are placed
 * before the token embeddings of every row; the attention mask gets P ones in front and the labels P
 * -100s, and positions run over all P + T tokens. Nothing of the base model trains.
 *
 * Here DecoderStep makes the room (P placeholder rows per sequence, see decoder-step.ts) and this
 * adaptation's `embeddings` op writes the block over them (kernels/row-block-copy); its backward sums
 * the input embeddings' gradient over the batch into the block's gradient.
 *
 * Initialisation as PEFT's: RANDOM is torch.nn.Embedding's default, N(0, 1) (seeded here); TEXT is the
 * word embeddings of the init text's token ids (the tokenizer's full output, special tokens included),
 * repeated and truncated to P; SAMPLE_VOCAB the word embeddings of P uniformly drawn ids (seeded here).
 */
import { rowBlockCopy, rowBlockCopyBackward } from '../../gpu/kernels/row-block-copy/row-block-copy';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, type Tensor, uploadTensor } from '../../gpu/tensor';
import { type EncoderConfig, isEncoderConfig } from '../models/bert-config';
import { embeddingNames } from '../models/bert-weights';
import type { DecoderConfig } from '../models/config';
import { type ParamMap, requireTensor } from '../models/params';
import { embeddingName } from '../models/weight-shapes';
import { seededRandom } from '../seeded-random';
import {
  type Adaptation,
  baseLinearOp,
  type EmbeddingOp,
  type EmbeddingSite,
  type LinearOp,
  type LinearSite,
  type PlanContext,
  type TrainableEntry,
} from './adaptation';
import { promptEmbeddingsKey } from './format/prompt-layout';

export class PromptTuningError extends Error {
  override readonly name = 'PromptTuningError';
}

/** PEFT's prompt_tuning_init TEXT: the text, its token ids, and the tokenizer the config names. */
export interface PromptTextInit {
  text: string;
  tokenIds: readonly number[];
  tokenizerNameOrPath: string;
}

export interface PromptTuningOptions {
  /** P, PEFT's num_virtual_tokens. */
  numVirtualTokens: number;
  /** RANDOM (the default), SAMPLE_VOCAB or TEXT. */
  init?: 'RANDOM' | 'SAMPLE_VOCAB' | PromptTextInit;
  /** Seeds the RANDOM and SAMPLE_VOCAB initialisations. */
  seed?: number;
}

/** PEFT's TEXT init ids: the text's ids truncated to P, or repeated until there are P of them. */
export function promptInitIds(tokenIds: readonly number[], P: number): number[] {
  if (tokenIds.length === 0)
    throw new PromptTuningError('The prompt-tuning init text gives no tokens; give a longer text.');
  return Array.from({ length: P }, (_, i) => tokenIds[i % tokenIds.length] as number);
}

/** N(0, 1) values by Box–Muller over a seeded uniform source. */
export function standardNormal(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

export class PromptTuningAdaptation implements Adaptation {
  readonly method = 'prompt';
  readonly virtualTokens: number;
  /** [P, C], PEFT's prompt_embeddings. */
  readonly prompt: Tensor;
  readonly grad: Tensor;

  constructor(
    runtime: Runtime,
    /** A decoder, or an encoder classifier (PEFT's SEQ_CLS prompt tuning). */
    model: { readonly config: DecoderConfig | EncoderConfig; readonly params: ParamMap },
    readonly options: PromptTuningOptions,
    /** Starting embeddings [P·C] (an imported adapter); PEFT's initialisation otherwise. */
    initial?: Float32Array,
  ) {
    const P = options.numVirtualTokens;
    const { C, V } = model.config;
    if (!(Number.isInteger(P) && P > 0))
      throw new PromptTuningError(`num_virtual_tokens must be a positive integer, got ${P}.`);
    const c = model.config;
    // Encoders' positions are learned; RoPE decoders have no position table to run out of.
    if ((isEncoderConfig(c) || c.positions === 'learned') && P >= model.config.P) {
      throw new PromptTuningError(
        `${P} virtual tokens leave no room in ${model.config.architecture}'s ${model.config.P} positions.`,
      );
    }
    if (initial && initial.length !== P * C) {
      throw new PromptTuningError(
        `The prompt embeddings hold ${initial.length} values; [${P}, ${C}] needs ${P * C}.`,
      );
    }
    this.virtualTokens = P;
    const a = runtime.arena;
    const init = options.init ?? 'RANDOM';
    const start = initial ?? (init === 'RANDOM' ? standardNormal(P * C, options.seed ?? 0) : undefined);
    this.prompt = start
      ? uploadTensor(a, promptEmbeddingsKey, [P, C], start)
      : createTensor(a, promptEmbeddingsKey, [P, C]);
    this.grad = createTensor(a, `grad ${promptEmbeddingsKey}`, [P, C]);
    if (!start && init !== 'RANDOM') {
      // Rows of the word-embedding table, copied on the GPU (the table may be large).
      const random = seededRandom(options.seed ?? 0);
      const ids =
        init === 'SAMPLE_VOCAB'
          ? Array.from({ length: P }, () => Math.floor(random() * V))
          : promptInitIds(init.tokenIds, P);
      const bad = ids.find((id) => !(Number.isInteger(id) && id >= 0 && id < V));
      if (bad !== undefined)
        throw new PromptTuningError(`Init token id ${bad} is outside the vocabulary of ${V}.`);
      const table = requireTensor(
        model.params,
        isEncoderConfig(c) ? embeddingNames(c).word : embeddingName(c),
      );
      if (table.dtype !== 'f32')
        throw new PromptTuningError(
          `${table.label} is held in half precision; starting the prompt from its rows needs it in f32.`,
        );
      const encoder = runtime.device.createCommandEncoder({ label: 'prompt embeddings from text' });
      for (const [p, id] of ids.entries())
        encoder.copyBufferToBuffer(table.buffer, id * C * 4, this.prompt.buffer, p * C * 4, C * 4);
      runtime.device.queue.submit([encoder.finish()]);
    }
  }

  baseGrad(): Tensor | undefined {
    return undefined;
  }

  linear(site: LinearSite, ctx: PlanContext): LinearOp {
    return baseLinearOp(ctx.runtime, site.base, {});
  }

  embeddings(site: EmbeddingSite, ctx: PlanContext): EmbeddingOp {
    if (site.virtualTokens !== this.virtualTokens || site.width !== this.prompt.shape[1]) {
      throw new PromptTuningError(
        `This step has ${site.virtualTokens} virtual tokens of width ${site.width}; the prompt is [${this.prompt.shape.join(', ')}].`,
      );
    }
    const batches = site.B;
    return {
      forward: async (h0) => [await rowBlockCopy(ctx.runtime, { block: this.prompt, dst: h0, batches })],
      backward: async (dh0) => [
        await rowBlockCopyBackward(ctx.runtime, { src: dh0, dblock: this.grad, batches }),
      ],
    };
  }

  trainable(): TrainableEntry[] {
    return [{ name: promptEmbeddingsKey, param: this.prompt, grad: this.grad }];
  }
}
