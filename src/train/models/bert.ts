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
 * Position ids come from the step (RoBERTa's start at padding_idx + 1). Dropout (config.dropout) applies
 * only to a training plan given an RNG (options.dropout), as model.train() does: on the embeddings'
 * output, the attention output projection (not DistilBERT), the FFN output, and before the classifier
 * (RoBERTa: also before classifier.dense); each site's backward reuses its mask (same stream and step).
 * Attention-probability dropout is not implemented: the probabilities exist only inside the fused
 * attention kernel. The loss and the batch upload are in classify/classifier-step.ts.
 * Prompt tuning (inputs.virtualTokens P): each row's first P embedding rows are the adaptation's prompt,
 * written over the word embeddings before positions and token types are added, as PEFT passes
 * inputs_embeds = [prompt; word_embeddings(ids)]. Prefix tuning (inputs.prefix): every layer's attention
 * reads the adaptation's P keys and values before the row's own (layers/kv-prefix.ts), with a key mask of
 * P + T columns, as PEFT passes past_key_values.
 *
 * Dimension letters: B batch, T tokens, N = B·T rows, C width, NH heads, D = C/NH, F feed-forward width,
 * K classes, L layers.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { activation, activationBackward } from '../../gpu/kernels/activation/activation';
import { add } from '../../gpu/kernels/add/add';
import { attentionBackward, attentionForward } from '../../gpu/kernels/attention/attention';
import { dropout } from '../../gpu/kernels/dropout/dropout';
import type { RngState } from '../../gpu/kernels/dropout/rng-state';
import { type EmbeddingIds, embedding, embeddingBackward } from '../../gpu/kernels/embedding/embedding';
import { gelu, geluBackward } from '../../gpu/kernels/gelu/gelu';
import { layerNormBackward, layerNormForward } from '../../gpu/kernels/layernorm/layernorm';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, reshapeTensor, type Tensor, uploadTensor } from '../../gpu/tensor';
import { type Adaptation, baseLinearOp, type LinearSite, type PlanContext } from '../peft/adaptation';
import type { EncoderConfig } from './bert-config';
import { embeddingNames, encoderLayerNames } from './bert-weights';
import { prefixedKeyValuesBackward, prefixedKeyValuesForward } from './layers/kv-prefix';
import type { Linear } from './layers/linear';
import { type ParamMap, requireTensor } from './params';

type Work = Promise<Dispatch | Dispatch[]>;

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

export class EncoderModel {
  constructor(
    readonly config: EncoderConfig,
    readonly params: ParamMap,
  ) {}

  private linear(name: string): Linear {
    return {
      name,
      weight: requireTensor(this.params, `${name}.weight`),
      bias: requireTensor(this.params, `${name}.bias`),
      layout: 'out-in',
    };
  }

  private site(layer: number, path: string, inFeatures: number, outFeatures: number): LinearSite {
    return {
      path,
      module: path.split('.').at(-1) as string,
      layer,
      base: this.linear(path),
      inFeatures,
      outFeatures,
    };
  }

  private layerSites(i: number) {
    const { C, F } = this.config;
    const n = encoderLayerNames(this.config, i);
    return {
      query: this.site(i, n.query, C, C),
      key: this.site(i, n.key, C, C),
      value: this.site(i, n.value, C, C),
      attentionOut: this.site(i, n.attentionOut, C, C),
      intermediate: this.site(i, n.intermediate, C, F),
      output: this.site(i, n.output, F, C),
    };
  }

  /** The encoder's linear layers, for a training method to adapt; the head is not among them (it always trains). */
  linearSites(): LinearSite[] {
    return Array.from({ length: this.config.L }, (_, i) => Object.values(this.layerSites(i))).flat();
  }

  /** The head's parameter names: dense and out, weight and bias. */
  headParamNames(): string[] {
    const { dense, out } = this.config.head;
    return [`${dense}.weight`, `${dense}.bias`, `${out}.weight`, `${out}.bias`];
  }

  private norm(name: string) {
    return {
      name,
      gamma: requireTensor(this.params, `${name}.weight`),
      beta: requireTensor(this.params, `${name}.bias`),
    };
  }

  async plan(
    runtime: Runtime,
    inputs: EncoderInputs,
    adaptation: Adaptation,
    backward: boolean,
    /** Dropout masks come from this RNG (seed, step); no dropout without it or in an evaluation plan. */
    options: { dropout?: RngState } = {},
  ): Promise<EncoderPlan> {
    const c = this.config;
    const { B, T } = inputs;
    const N = B * T;
    const rng = backward ? options.dropout : undefined;
    let streams = 0;
    /** A dropout site (undefined when off): the backward applies the forward's mask to the gradient. */
    const dropSite = (p: number, label: string) => {
      if (!rng || p <= 0) return undefined;
      const stream = streams++;
      return {
        forward: (x: Tensor, y: Tensor) => dropout(runtime, { x, y, p, rng, stream, label }),
        backward: (dy: Tensor, dx: Tensor) =>
          dropout(runtime, { x: dy, y: dx, p, rng, stream, label: `${label} backward` }),
      };
    };
    if (T > c.P)
      throw new Error(`${c.architecture} takes at most ${c.P} positions per row; this step has ${T}.`);
    const ctx: PlanContext = { runtime, N, training: backward };
    const t = (label: string, shape: number[]) => createTensor(runtime.arena, label, shape);
    const heads = (x: Tensor) => reshapeTensor(x, [B, T, c.NH, c.D]);
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
    const S = KP + T;
    const attention = { causal: false, keyMask: inputs.prefix?.keyMask ?? inputs.keyMask };
    const unused = { dgamma: t('unused norm gradient', [c.C]), dbeta: t('unused norm bias gradient', [c.C]) };
    const normGrads = (name: string) => ({
      dgamma: adaptation.baseGrad(`${name}.weight`) ?? unused.dgamma,
      dbeta: adaptation.baseGrad(`${name}.bias`) ?? unused.dbeta,
    });
    const activate = (x: Tensor, out: Tensor): Work =>
      c.activation === 'gelu_new'
        ? gelu(runtime, { x, out })
        : activation(runtime, { kind: c.activation, x, out });
    const activateBackward = (x: Tensor, dy: Tensor, dx: Tensor): Work =>
      c.activation === 'gelu_new'
        ? geluBackward(runtime, { x, dy, dx })
        : activationBackward(runtime, { kind: c.activation, x, dy, dx });

    // Embeddings: word + position (+ token type), then LayerNorm.
    const names = embeddingNames(c);
    const embeddingSum = t('embedding sum', [N, c.C]);
    const positionRows = t('position embedding', [N, c.C]);
    const typeRows = t('token type embedding', [N, c.C]);
    const embNorm = this.norm(names.norm);
    const embMean = t('embedding mean', [N]);
    const embRstd = t('embedding rstd', [N]);
    const hs: Tensor[] = [t('h0', [N, c.C])];
    const embDrop = dropSite(c.dropout.hidden, 'embedding dropout');
    const embOut = embDrop ? t('embedding norm out', [N, c.C]) : (hs[0] as Tensor);
    const forward: Work[] = [
      ...(prefix ? [prefix.prepare()] : []),
      embedding(runtime, {
        table: requireTensor(this.params, names.word),
        ids: inputs.ids.ids,
        out: embeddingSum,
      }),
      ...(prompt ? [prompt.forward(embeddingSum)] : []),
      embedding(runtime, {
        table: requireTensor(this.params, names.position),
        ids: inputs.positions.ids,
        out: positionRows,
      }),
      add(runtime, { b: positionRows, out: embeddingSum, accumulate: true }),
    ];
    if (names.tokenType) {
      if (!inputs.tokenTypes) throw new Error(`${c.architecture} needs token types in its step inputs.`);
      forward.push(
        embedding(runtime, {
          table: requireTensor(this.params, names.tokenType),
          ids: inputs.tokenTypes.ids,
          out: typeRows,
        }),
        add(runtime, { b: typeRows, out: embeddingSum, accumulate: true }),
      );
    }
    forward.push(
      layerNormForward(runtime, {
        x: embeddingSum,
        gamma: embNorm.gamma,
        beta: embNorm.beta,
        y: embOut,
        mean: embMean,
        rstd: embRstd,
        eps: c.normEps,
      }),
      ...(embDrop ? [embDrop.forward(embOut, hs[0] as Tensor)] : []),
    );

    // Gradient buffers shared by all layers: dh is the gradient of the current layer's output, then
    // (after the layer's backward) of its input; dMid that of the block's middle h1.
    const dh = t('d hidden', [N, c.C]);
    const d = {
      mid: t('d attention block out', [N, c.C]),
      act: t('d activation out', [N, c.F]),
      fc: t('d intermediate', [N, c.F]),
      att: t('d attention out', [N, c.C]),
      q: t('d q', [N, c.C]),
      k: t('d k', [N, c.C]),
      v: t('d v', [N, c.C]),
      rowStats: t('attention row stats', [B, c.NH, T, 2]),
      kAll: prefix && backward ? t('d k with prefix', [B, S, c.NH, c.D]) : undefined,
      vAll: prefix && backward ? t('d v with prefix', [B, S, c.NH, c.D]) : undefined,
      /** The gradient of a sublayer's raw output, through its bottleneck adapter. */
      sub: t('d sublayer out', [N, c.C]),
      /** The gradient of a projection's output before its dropout. */
      drop: t('d before dropout', [N, c.C]),
    };
    const layerBackwards: Work[][] = [];
    for (let i = 0; i < c.L; i++) {
      const sites = this.layerSites(i);
      const op = {
        query: adaptation.linear(sites.query, ctx),
        key: adaptation.linear(sites.key, ctx),
        value: adaptation.linear(sites.value, ctx),
        attentionOut: adaptation.linear(sites.attentionOut, ctx),
        intermediate: adaptation.linear(sites.intermediate, ctx),
        output: adaptation.linear(sites.output, ctx),
      };
      // Bottleneck adapters sit on each sublayer's output before its residual add and LayerNorm (Houlsby);
      // the projection's raw output is then kept for the adapter's backward.
      const afterAttention = adaptation.sublayer?.({ layer: i, position: 'attention', width: c.C }, ctx);
      const afterFfn = adaptation.sublayer?.({ layer: i, position: 'ffn', width: c.C }, ctx);
      const n = encoderLayerNames(c, i);
      const norm1 = this.norm(n.attentionNorm);
      const norm2 = this.norm(n.outputNorm);
      const x = hs[i] as Tensor;
      const l = `L${i}`;
      const s = {
        q: t(`${l} q`, [N, c.C]),
        k: t(`${l} k`, [N, c.C]),
        v: t(`${l} v`, [N, c.C]),
        att: t(`${l} attention`, [N, c.C]),
        lse: t(`${l} lse`, [B, c.NH, T]),
        attOut: t(`${l} attention projection`, [N, c.C]),
        sum1: t(`${l} attention residual`, [N, c.C]),
        mean1: t(`${l} mean1`, [N]),
        rstd1: t(`${l} rstd1`, [N]),
        h1: t(`${l} attention block out`, [N, c.C]),
        fc: t(`${l} intermediate`, [N, c.F]),
        act: t(`${l} activation`, [N, c.F]),
        ffnOut: t(`${l} output projection`, [N, c.C]),
        sum2: t(`${l} ffn residual`, [N, c.C]),
        mean2: t(`${l} mean2`, [N]),
        rstd2: t(`${l} rstd2`, [N]),
      };
      const rawAttention = afterAttention ? t(`${l} raw attention projection`, [N, c.C]) : s.attOut;
      const rawFfn = afterFfn ? t(`${l} raw output projection`, [N, c.C]) : s.ffnOut;
      // HF's order: dense → dropout → (adapter) → residual add and LayerNorm.
      const attDrop = c.dropout.attentionOutput
        ? dropSite(c.dropout.hidden, `${l} attention dropout`)
        : undefined;
      const ffnDrop = dropSite(c.dropout.hidden, `${l} output dropout`);
      const attDense = attDrop ? t(`${l} attention dense`, [N, c.C]) : rawAttention;
      const ffnDense = ffnDrop ? t(`${l} output dense`, [N, c.C]) : rawFfn;
      const hNext = t(`h${i + 1}`, [N, c.C]);
      hs.push(hNext);
      const prefixed = prefix
        ? {
            prefix,
            P: KP,
            layer: i,
            k: heads(s.k),
            v: heads(s.v),
            kAll: t(`${l} k with prefix`, [B, S, c.NH, c.D]),
            vAll: t(`${l} v with prefix`, [B, S, c.NH, c.D]),
          }
        : undefined;
      const attIo = {
        q: heads(s.q),
        k: prefixed?.kAll ?? heads(s.k),
        v: prefixed?.vAll ?? heads(s.v),
        out: heads(s.att),
        lse: s.lse,
      };
      forward.push(
        op.query.forward(x, s.q),
        op.key.forward(x, s.k),
        op.value.forward(x, s.v),
        ...(prefixed ? [prefixedKeyValuesForward(runtime, prefixed)] : []),
        attentionForward(runtime, attIo, attention),
        op.attentionOut.forward(s.att, attDense),
        ...(attDrop ? [attDrop.forward(attDense, rawAttention)] : []),
        ...(afterAttention ? [afterAttention.forward(rawAttention, s.attOut)] : []),
        add(runtime, { a: x, b: s.attOut, out: s.sum1 }),
        layerNormForward(runtime, {
          x: s.sum1,
          gamma: norm1.gamma,
          beta: norm1.beta,
          y: s.h1,
          mean: s.mean1,
          rstd: s.rstd1,
          eps: c.normEps,
        }),
        op.intermediate.forward(s.h1, s.fc),
        activate(s.fc, s.act),
        op.output.forward(s.act, ffnDense),
        ...(ffnDrop ? [ffnDrop.forward(ffnDense, rawFfn)] : []),
        ...(afterFfn ? [afterFfn.forward(rawFfn, s.ffnOut)] : []),
        add(runtime, { a: s.h1, b: s.ffnOut, out: s.sum2 }),
        layerNormForward(runtime, {
          x: s.sum2,
          gamma: norm2.gamma,
          beta: norm2.beta,
          y: hNext,
          mean: s.mean2,
          rstd: s.rstd2,
          eps: c.normEps,
        }),
      );
      if (!backward) continue;
      layerBackwards.push([
        // Post-LN: the residual's gradient is the norm's dx, so each norm backward overwrites.
        layerNormBackward(runtime, {
          x: s.sum2,
          gamma: norm2.gamma,
          mean: s.mean2,
          rstd: s.rstd2,
          dy: dh,
          dx: d.mid,
          ...normGrads(norm2.name),
        }),
        ...(afterFfn ? [afterFfn.backward({ x: rawFfn, dy: d.mid, dx: d.sub })] : []),
        ...(ffnDrop ? [ffnDrop.backward(afterFfn ? d.sub : d.mid, d.drop)] : []),
        op.output.backward({ x: s.act, dy: ffnDrop ? d.drop : afterFfn ? d.sub : d.mid, dx: d.act }),
        activateBackward(s.fc, d.act, d.fc),
        op.intermediate.backward({ x: s.h1, dy: d.fc, dx: d.mid, accumulateDx: true }),
        layerNormBackward(runtime, {
          x: s.sum1,
          gamma: norm1.gamma,
          mean: s.mean1,
          rstd: s.rstd1,
          dy: d.mid,
          dx: dh,
          ...normGrads(norm1.name),
        }),
        ...(afterAttention ? [afterAttention.backward({ x: rawAttention, dy: dh, dx: d.sub })] : []),
        ...(attDrop ? [attDrop.backward(afterAttention ? d.sub : dh, d.drop)] : []),
        op.attentionOut.backward({ x: s.att, dy: attDrop ? d.drop : afterAttention ? d.sub : dh, dx: d.att }),
        attentionBackward(
          runtime,
          {
            ...attIo,
            dOut: heads(d.att),
            rowStats: d.rowStats,
            dq: heads(d.q),
            dk: d.kAll ?? heads(d.k),
            dv: d.vAll ?? heads(d.v),
          },
          attention,
        ),
        ...(prefixed && d.kAll && d.vAll
          ? [
              prefixedKeyValuesBackward(runtime, prefixed, {
                dkAll: d.kAll,
                dvAll: d.vAll,
                dk: heads(d.k),
                dv: heads(d.v),
              }),
            ]
          : []),
        op.query.backward({ x, dy: d.q, dx: dh, accumulateDx: true }),
        op.key.backward({ x, dy: d.k, dx: dh, accumulateDx: true }),
        op.value.backward({ x, dy: d.v, dx: dh, accumulateDx: true }),
      ]);
    }

    // Head on the first token of every row: gathered from the last hidden state by the embedding
    // lookup (the [N, C] state is the table), whose backward scatters the gradient back (zero elsewhere).
    const hLast = hs[c.L] as Tensor;
    const first = t('first-token hidden', [B, c.C]);
    const pre = t('head dense', [B, c.C]);
    const pooled = t('head activation', [B, c.C]);
    const logits = t('classifier logits', [B, c.K]);
    const dlogits = t('d classifier logits', [B, c.K]);
    const headOp = (name: string) => {
      const layer = this.linear(name);
      const weight = adaptation.baseGrad(`${name}.weight`);
      const bias = adaptation.baseGrad(`${name}.bias`);
      return baseLinearOp(runtime, layer, { ...(weight ? { weight } : {}), ...(bias ? { bias } : {}) });
    };
    const dense = headOp(c.head.dense);
    const out = headOp(c.head.out);
    // Classifier dropout: before the classifier (all three), and RoBERTa's before classifier.dense too.
    const inDrop = c.family === 'roberta' ? dropSite(c.dropout.classifier, 'head input dropout') : undefined;
    const outDrop = dropSite(c.dropout.classifier, 'classifier dropout');
    const denseIn = inDrop ? t('head input after dropout', [B, c.C]) : first;
    const outIn = outDrop ? t('classifier input after dropout', [B, c.C]) : pooled;
    forward.push(
      embedding(runtime, { table: hLast, ids: inputs.firstTokens.ids, out: first }),
      ...(inDrop ? [inDrop.forward(first, denseIn)] : []),
      dense.forward(denseIn, pre),
      activation(runtime, { kind: c.head.activation, x: pre, out: pooled }),
      ...(outDrop ? [outDrop.forward(pooled, outIn)] : []),
      out.forward(outIn, logits),
    );

    const backwardWork: Work[] = [];
    if (backward) {
      const dPooled = t('d head activation', [B, c.C]);
      const dPre = t('d head dense', [B, c.C]);
      const dFirst = t('d first-token hidden', [B, c.C]);
      const dOutIn = outDrop ? t('d classifier input after dropout', [B, c.C]) : dPooled;
      const dDenseIn = inDrop ? t('d head input after dropout', [B, c.C]) : dFirst;
      backwardWork.push(
        out.backward({ x: outIn, dy: dlogits, dx: dOutIn }),
        ...(outDrop ? [outDrop.backward(dOutIn, dPooled)] : []),
        activationBackward(runtime, { kind: c.head.activation, x: pre, dy: dPooled, dx: dPre }),
        dense.backward({ x: denseIn, dy: dPre, dx: dDenseIn }),
        ...(inDrop ? [inDrop.backward(dDenseIn, dFirst)] : []),
        embeddingBackward(runtime, { dout: dFirst, dtable: dh, index: inputs.firstTokens }),
      );
      for (let i = c.L - 1; i >= 0; i--) backwardWork.push(...(layerBackwards[i] ?? []));
      const dEmbedding = t('d embedding sum', [N, c.C]);
      const dEmbOut = embDrop ? t('d embedding norm out', [N, c.C]) : dh;
      backwardWork.push(
        ...(embDrop ? [embDrop.backward(dh, dEmbOut)] : []),
        layerNormBackward(runtime, {
          x: embeddingSum,
          gamma: embNorm.gamma,
          mean: embMean,
          rstd: embRstd,
          dy: dEmbOut,
          dx: dEmbedding,
          ...normGrads(embNorm.name),
        }),
        ...(prompt ? [prompt.backward(dEmbedding)] : []),
        ...(prefix ? [prefix.finish()] : []),
      );
      const tables: [string | undefined, EmbeddingIds | undefined][] = [
        [names.word, inputs.ids],
        [names.position, inputs.positions],
        [names.tokenType, inputs.tokenTypes],
      ];
      for (const [name, index] of tables) {
        const grad = name ? adaptation.baseGrad(name) : undefined;
        if (grad && index)
          backwardWork.push(embeddingBackward(runtime, { dout: dEmbedding, dtable: grad, index }));
      }
    }
    return {
      forward: (await Promise.all(forward)).flat(),
      logits,
      dlogits,
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
