/**
 * BERT-family encoders for sequence classification (BertForSequenceClassification,
 * DistilBertForSequenceClassification, RobertaForSequenceClassification) on the engine's kernels, as
 * transformers' modeling_bert.py, modeling_distilbert.py and modeling_roberta.py define them:
 *   h = LayerNorm_e(word[ids] + position[pos] + token_type[types])     (DistilBERT: no token types)
 *   per layer (post-LayerNorm):  q, k, v = x·Wqᵀ + bq, ...
 *                                h1 = LayerNorm₁(x + attention(q, k, v)·Woᵀ + bo)  (bidirectional, key padding mask)
 *                                h  = LayerNorm₂(h1 + act(h1·Wiᵀ + bi)·Wfᵀ + bf)   (act: exact GELU)
 *   head on the first token:     logits = out(act_h(dense(h[:, 0])))
 *     BERT: dense = bert.pooler.dense, tanh, out = classifier; DistilBERT: pre_classifier, relu, classifier;
 *     RoBERTa: classifier.dense, tanh, classifier.out_proj.
 * The parts live in bert-embeddings.ts, bert-layer.ts and bert-head.ts, sharing bert-plan-kit.ts; this file
 * is the model: its parameters, the sites a training method adapts, and the plan that strings the parts.
 * Position ids come from the step (RoBERTa's start at padding_idx + 1). Dropout (config.dropout) applies
 * only to a training plan given an RNG (options.dropout), as model.train() does: on the embeddings'
 * output, the attention probabilities (inside the attention kernels), the attention output projection (not
 * DistilBERT), the FFN output, and before the classifier (RoBERTa: also before classifier.dense); each
 * site's backward reuses its mask (same stream and step). The loss and the batch upload are in
 * classify/classifier-step.ts.
 * Prompt tuning (inputs.virtualTokens P): each row's first P embedding rows are the adaptation's prompt,
 * written over the word embeddings before positions and token types are added, as PEFT passes
 * inputs_embeds = [prompt; word_embeddings(ids)]. Prefix tuning (inputs.prefix): every layer's attention
 * reads the adaptation's P keys and values before the row's own (layers/kv-prefix.ts), with a key mask of
 * P + T columns, as PEFT passes past_key_values.
 *
 * Dimension letters: B batch, T tokens, N = B·T rows, C width, NH heads, D = C/NH, F feed-forward width,
 * K classes, L layers.
 */
import type { RngState } from '../../gpu/kernels/dropout/rng-state';
import type { Runtime } from '../../gpu/runtime';
import { type Tensor, uploadTensor } from '../../gpu/tensor';
import type { Adaptation, LinearSite } from '../peft/adaptation';
import type { EncoderConfig } from './bert-config';
import { planEmbeddings } from './bert-embeddings';
import { headParamNames, planHead } from './bert-head';
import { encoderLayerSites, layerGradientBuffers, planEncoderLayer } from './bert-layer';
import { createPlanKit, type EncoderInputs, type EncoderPlan, type Work } from './bert-plan-kit';
import type { ParamMap } from './params';

export type { EncoderInputs, EncoderPlan } from './bert-plan-kit';

export class EncoderModel {
  constructor(
    readonly config: EncoderConfig,
    readonly params: ParamMap,
  ) {}

  /** The encoder's linear layers, for a training method to adapt; the head is not among them (it always trains). */
  linearSites(): LinearSite[] {
    return Array.from({ length: this.config.L }, (_, i) =>
      Object.values(encoderLayerSites(this.config, this.params, i)),
    ).flat();
  }

  /** The head's parameter names: dense and out, weight and bias. */
  headParamNames(): string[] {
    return headParamNames(this);
  }

  async plan(
    runtime: Runtime,
    inputs: EncoderInputs,
    adaptation: Adaptation,
    backward: boolean,
    /** Dropout masks come from this RNG (seed, step); no dropout without it or in an evaluation plan. */
    options: { dropout?: RngState } = {},
  ): Promise<EncoderPlan> {
    const kit = createPlanKit(runtime, this.config, this.params, inputs, adaptation, backward, options);
    // In this order: each part takes its dropout streams as it is planned.
    const embeddings = planEmbeddings(kit);
    const grads = backward ? layerGradientBuffers(kit) : undefined;
    const forward: Work[] = [...embeddings.forward];
    const layerBackwards: Work[][] = [];
    let h: Tensor = embeddings.h0;
    for (let i = 0; i < this.config.L; i++) {
      const layer = planEncoderLayer(kit, i, h, grads);
      forward.push(...layer.forward);
      layerBackwards.push(layer.backward);
      h = layer.out;
    }
    const head = planHead(kit, h);
    forward.push(...head.forward);
    const backwardWork: Work[] = [];
    if (grads) {
      backwardWork.push(...head.backward(grads.dh));
      for (let i = this.config.L - 1; i >= 0; i--) backwardWork.push(...(layerBackwards[i] ?? []));
      backwardWork.push(...embeddings.backward(grads.dh));
    }
    return {
      forward: (await Promise.all(forward)).flat(),
      logits: head.logits,
      dlogits: head.dlogits,
      backward: (await Promise.all(backwardWork)).flat(),
    };
  }
}

/** Tokens per row the position table holds: P, less RoBERTa's padding_idx + 1 offset. */
export function maxEncoderTokens(c: EncoderConfig): number {
  return c.family === 'roberta' ? c.P - c.padTokenId - 1 : c.P;
}

/** Uploads an opened checkpoint's weights (a fresh head included) and returns the model. */
export async function createEncoderModel(
  runtime: Runtime,
  checkpoint: {
    config: EncoderConfig;
    shapes: Map<string, number[]>;
    read(name: string): Promise<Float32Array>;
  },
): Promise<EncoderModel> {
  const params: ParamMap = new Map();
  for (const [name, shape] of checkpoint.shapes)
    params.set(name, uploadTensor(runtime.arena, name, shape, await checkpoint.read(name)));
  return new EncoderModel(checkpoint.config, params);
}
