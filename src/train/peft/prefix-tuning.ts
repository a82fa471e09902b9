/**
 * Prefix tuning (Li & Liang 2021, "Prefix-Tuning: Optimizing Continuous Prompts for Generation") as PEFT
 * does it for CAUSAL_LM (peft/tuners/prefix_tuning/model.py, PrefixEncoder; peft_model.py, get_prompt and
 * PeftModelForCausalLM.forward): every layer's attention gets P learned keys and values in front of the
 * sequence's own, passed as past_key_values. Nothing of the base model trains.
 *
 * The prefix of all layers is one table [P, L·2·W] (W = token_dim, KV·D for Llama under GQA, C for
 * GPT-2), laid out as format/prompt-layout.ts describes: layer l's keys are columns [2l·W, (2l+1)·W),
 * its values the next W, each row [KV, D] like the model's own keys. Without a projection the table is
 * the parameter, PEFT's prompt_embeddings (nn.Embedding, N(0, 1) at init). With `prefixProjection` it
 * is the output of PEFT's MLP over P learned embeddings [P, W]:
 *   table = Linear(H → L·2·W)(tanh(Linear(W → H)(embedding)))     H = encoder_hidden_size
 * (nn.Linear init: Kaiming-uniform a = √5 weights, U(±1/√fan_in) biases; seeded here), and what an
 * export saves as prompt_embeddings is that output, as PEFT's get_prompt_embedding_to_save does.
 *
 * The model files put the prefix rows in front of each layer's keys and values (models/layers/
 * kv-prefix.ts) by `write`, and hand back their gradient by `backward`; `prepare` and `finish` run the
 * MLP's forward and backward once per step.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { activation, activationBackward } from '../../gpu/kernels/activation/activation';
import { columnCopy } from '../../gpu/kernels/column-copy/column-copy';
import { rowBlockCopy, rowBlockCopyBackward } from '../../gpu/kernels/row-block-copy/row-block-copy';
import { RecordedStep } from '../../gpu/recorded-step';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, downloadTensor, reshapeTensor, type Tensor, uploadTensor } from '../../gpu/tensor';
import { type EncoderConfig, isEncoderConfig } from '../models/bert-config';
import type { DecoderConfig } from '../models/config';
import { type Linear, linearBackward, linearForward } from '../models/layers/linear';
import { seededRandom } from '../seeded-random';
import {
  type Adaptation,
  baseLinearOp,
  type KeyValuePrefixOp,
  type KeyValuePrefixSite,
  type LinearOp,
  type LinearSite,
  type PlanContext,
  type TrainableEntry,
} from './adaptation';
import { prefixDims, promptEmbeddingsKey } from './format/prompt-layout';
import { standardNormal } from './prompt-tuning';

export class PrefixTuningError extends Error {
  override readonly name = 'PrefixTuningError';
}

export interface PrefixTuningOptions {
  /** P, PEFT's num_virtual_tokens. */
  numVirtualTokens: number;
  /** PEFT's prefix_projection: the prefix is the output of a two-layer tanh MLP. */
  prefixProjection?: boolean;
  /** H, PEFT's encoder_hidden_size (the MLP's hidden width); token_dim when absent, as in PEFT. */
  encoderHiddenSize?: number;
  /** Seeds the initialisation. */
  seed?: number;
}

/** The reparameterisation MLP: its parameters, their gradients, and its hidden activations. */
interface PrefixMlp {
  embedding: Tensor; // [P, W]
  first: Linear; // weight [H, W], bias [H]
  second: Linear; // weight [L·2·W, H], bias [L·2·W]
  grads: {
    embedding: Tensor;
    first: Required<Pick<Linear, 'weight' | 'bias'>>;
    second: Required<Pick<Linear, 'weight' | 'bias'>>;
  };
  hidden: Tensor; // [P, H], before tanh
  activated: Tensor; // [P, H]
  dHidden: Tensor;
  dActivated: Tensor;
}

export class PrefixTuningAdaptation implements Adaptation {
  readonly method = 'prefix';
  readonly prefixTokens: number;
  /** W, PEFT's token_dim. */
  readonly tokenDim: number;
  readonly layers: number;
  /** [P, L·2·W]: every layer's prefix keys and values (the parameter itself without a projection). */
  readonly table: Tensor;
  readonly tableGrad: Tensor;
  readonly mlp?: PrefixMlp;
  /** One layer's keys (or values) [P, W], and their gradient: scratch reused by every layer. */
  private readonly slice: Tensor;
  private readonly sliceGrad: Tensor;

  constructor(
    private readonly runtime: Runtime,
    /** A decoder, or an encoder classifier (PEFT's SEQ_CLS prefix tuning). */
    model: { readonly config: DecoderConfig | EncoderConfig },
    readonly options: PrefixTuningOptions,
    /** Starting prefix [P·L·2·W] (an imported adapter, which holds no MLP); PEFT's init otherwise. */
    initial?: Float32Array,
  ) {
    const P = options.numVirtualTokens;
    if (!(Number.isInteger(P) && P > 0))
      throw new PrefixTuningError(`num_virtual_tokens must be a positive integer, got ${P}.`);
    const c = model.config;
    if ((isEncoderConfig(c) || c.positions === 'learned') && P >= c.P) {
      throw new PrefixTuningError(
        `${P} prefix tokens leave no room in ${model.config.architecture}'s ${model.config.P} positions.`,
      );
    }
    const W = prefixDims(model.config).tokenDim;
    const L = model.config.L;
    const width = L * 2 * W;
    if (initial && initial.length !== P * width) {
      throw new PrefixTuningError(
        `The prefix holds ${initial.length} values; [${P}, ${width}] (num_virtual_tokens, num_layers·2·token_dim) needs ${P * width}.`,
      );
    }
    if (initial && options.prefixProjection) {
      throw new PrefixTuningError(
        'A saved prefix is the MLP output; it starts a prefix without a projection (prefixProjection false).',
      );
    }
    const H = options.encoderHiddenSize ?? W;
    if (!(Number.isInteger(H) && H > 0))
      throw new PrefixTuningError(`encoder_hidden_size must be a positive integer, got ${H}.`);
    this.prefixTokens = P;
    this.tokenDim = W;
    this.layers = L;
    const a = runtime.arena;
    const seed = options.seed ?? 0;
    this.tableGrad = createTensor(a, `grad ${promptEmbeddingsKey}`, [P, width]);
    this.slice = createTensor(a, 'prefix layer slice', [P, W]);
    this.sliceGrad = createTensor(a, 'd prefix layer slice', [P, W]);
    if (!options.prefixProjection) {
      this.table = uploadTensor(
        a,
        promptEmbeddingsKey,
        [P, width],
        initial ?? standardNormal(P * width, seed),
      );
      return;
    }
    this.table = createTensor(a, 'prefix (MLP output)', [P, width]);
    const random = seededRandom(seed + 1);
    const uniform = (n: number, fanIn: number) =>
      Float32Array.from({ length: n }, () => (random() * 2 - 1) / Math.sqrt(fanIn));
    const name = (part: string) => `prompt_encoder.${part}`;
    const param = (part: string, shape: number[], data: Float32Array) =>
      uploadTensor(a, name(part), shape, data);
    const grad = (part: string, shape: number[]) => createTensor(a, `grad ${name(part)}`, shape);
    this.mlp = {
      embedding: param('embedding.weight', [P, W], standardNormal(P * W, seed)),
      first: {
        name: name('transform.0'),
        weight: param('transform.0.weight', [H, W], uniform(H * W, W)),
        bias: param('transform.0.bias', [H], uniform(H, W)),
        layout: 'out-in',
      },
      second: {
        name: name('transform.2'),
        weight: param('transform.2.weight', [width, H], uniform(width * H, H)),
        bias: param('transform.2.bias', [width], uniform(width, H)),
        layout: 'out-in',
      },
      grads: {
        embedding: grad('embedding.weight', [P, W]),
        first: { weight: grad('transform.0.weight', [H, W]), bias: grad('transform.0.bias', [H]) },
        second: { weight: grad('transform.2.weight', [width, H]), bias: grad('transform.2.bias', [width]) },
      },
      hidden: createTensor(a, 'prefix MLP hidden', [P, H]),
      activated: createTensor(a, 'prefix MLP tanh', [P, H]),
      dHidden: createTensor(a, 'd prefix MLP hidden', [P, H]),
      dActivated: createTensor(a, 'd prefix MLP tanh', [P, H]),
    };
  }

  baseGrad(): Tensor | undefined {
    return undefined;
  }

  linear(site: LinearSite, ctx: PlanContext): LinearOp {
    return baseLinearOp(ctx.runtime, site.base, {});
  }

  /** The MLP's forward, [P, W] → [P, L·2·W]; nothing without a projection. */
  private async mlpForward(): Promise<Dispatch[]> {
    const m = this.mlp;
    if (!m) return [];
    const runtime = this.runtime;
    return [
      await linearForward(runtime, m.first, m.embedding, m.hidden),
      await activation(runtime, { kind: 'tanh', x: m.hidden, out: m.activated }),
      await linearForward(runtime, m.second, m.activated, this.table),
    ];
  }

  keyValuePrefix(site: KeyValuePrefixSite, ctx: PlanContext): KeyValuePrefixOp {
    const W = this.tokenDim;
    if (site.layers !== this.layers || site.kvHeads * site.headDim !== W) {
      throw new PrefixTuningError(
        `This prefix is for ${this.layers} layers of token_dim ${W}; the model has ${site.layers} layers of ` +
          `${site.kvHeads} key/value heads × ${site.headDim}.`,
      );
    }
    const runtime = ctx.runtime;
    const batches = site.B;
    const rows = (x: Tensor) => reshapeTensor(x, [x.size / W, W]);
    const column = (layer: number, kv: 0 | 1) => (2 * layer + kv) * W;
    const writeOne = async (layer: number, kv: 0 | 1, dst: Tensor) => [
      await columnCopy(runtime, {
        src: this.table,
        srcOffset: column(layer, kv),
        dst: this.slice,
        dstOffset: 0,
        width: W,
      }),
      await rowBlockCopy(runtime, { block: this.slice, dst: rows(dst), batches }),
    ];
    const backwardOne = async (layer: number, kv: 0 | 1, dAll: Tensor) => [
      await rowBlockCopyBackward(runtime, { src: rows(dAll), dblock: this.sliceGrad, batches }),
      await columnCopy(runtime, {
        src: this.sliceGrad,
        srcOffset: 0,
        dst: this.tableGrad,
        dstOffset: column(layer, kv),
        width: W,
      }),
    ];
    return {
      prepare: () => this.mlpForward(),
      write: async (layer, k, v) => [...(await writeOne(layer, 0, k)), ...(await writeOne(layer, 1, v))],
      // Every column block of the table's gradient is written by exactly one layer's backward.
      backward: async (layer, dk, dv) => [
        ...(await backwardOne(layer, 0, dk)),
        ...(await backwardOne(layer, 1, dv)),
      ],
      finish: async () => {
        const m = this.mlp;
        if (!m) return [];
        return [
          ...(await linearBackward(runtime, m.second, m.grads.second, {
            x: m.activated,
            dy: this.tableGrad,
            dx: m.dActivated,
          })),
          await activationBackward(runtime, { kind: 'tanh', x: m.hidden, dy: m.dActivated, dx: m.dHidden }),
          ...(await linearBackward(runtime, m.first, m.grads.first, {
            x: m.embedding,
            dy: m.dHidden,
            dx: m.grads.embedding,
          })),
        ];
      },
    };
  }

  /** The prefix as PEFT saves it, [P·L·2·W]: the table, or with a projection the MLP's output now. */
  async prefixValues(): Promise<Float32Array> {
    if (this.mlp) {
      const step = new RecordedStep(this.runtime, 'prefix MLP', await this.mlpForward());
      step.replay();
      await step.finished();
      step.release();
    }
    return downloadTensor(this.runtime.arena, this.table);
  }

  trainable(): TrainableEntry[] {
    const m = this.mlp;
    if (!m) return [{ name: promptEmbeddingsKey, param: this.table, grad: this.tableGrad }];
    return [
      { name: m.embedding.label, param: m.embedding, grad: m.grads.embedding },
      { name: `${m.first.name}.weight`, param: m.first.weight, grad: m.grads.first.weight },
      { name: `${m.first.name}.bias`, param: m.first.bias as Tensor, grad: m.grads.first.bias },
      { name: `${m.second.name}.weight`, param: m.second.weight, grad: m.grads.second.weight },
      { name: `${m.second.name}.bias`, param: m.second.bias as Tensor, grad: m.grads.second.bias },
    ];
  }
}
