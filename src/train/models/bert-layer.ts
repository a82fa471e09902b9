/**
 * One post-LayerNorm encoder layer of an encoder step (HF's BertLayer, RobertaLayer, DistilBERT's
 * TransformerBlock):
 *   q, k, v = x·Wqᵀ + bq, ...
 *   h1 = LayerNorm₁(x + dropout(attention(q, k, v)·Woᵀ + bo))  (bidirectional, key padding mask)
 *   h  = LayerNorm₂(h1 + dropout(act(h1·Wiᵀ + bi)·Wfᵀ + bf))   (act: exact GELU)
 * DistilBERT has no dropout on the attention output projection. In training the attention probabilities
 * are dropped too (attention_probs_dropout_prob / attention_dropout), inside the attention kernels, which
 * recompute the mask in their backward. Bottleneck adapters sit on each sublayer's output before its
 * residual add (Houlsby); prefix tuning puts the adaptation's P keys and values before the row's own
 * (layers/kv-prefix.ts), with a key mask of P + T columns.
 *
 * Dimension letters: B batch, T tokens, N = B·T rows, C width, NH heads, D = C/NH, F feed-forward width,
 * S = P + T keys.
 */
import { add } from '../../gpu/kernels/add/add';
import { attentionBackward, attentionForward } from '../../gpu/kernels/attention/attention';
import { layerNormBackward, layerNormForward } from '../../gpu/kernels/layernorm/layernorm';
import type { Tensor } from '../../gpu/tensor';
import type { LinearSite } from '../peft/adaptation';
import type { EncoderConfig } from './bert-config';
import { type EncoderPlanKit, encoderSite, type Work } from './bert-plan-kit';
import { encoderLayerNames } from './bert-weights';
import { prefixedKeyValuesBackward, prefixedKeyValuesForward } from './layers/kv-prefix';
import type { ParamMap } from './params';

/** Layer i's six linear layers, as a training method sees them. */
export function encoderLayerSites(config: EncoderConfig, params: ParamMap, i: number) {
  const { C, F } = config;
  const n = encoderLayerNames(config, i);
  const site = (path: string, inFeatures: number, outFeatures: number): LinearSite =>
    encoderSite(params, i, path, inFeatures, outFeatures);
  return {
    query: site(n.query, C, C),
    key: site(n.key, C, C),
    value: site(n.value, C, C),
    attentionOut: site(n.attentionOut, C, C),
    intermediate: site(n.intermediate, C, F),
    output: site(n.output, F, C),
  };
}

/**
 * Gradient buffers shared by all layers: dh is the gradient of the current layer's output, then (after
 * the layer's backward) of its input; mid that of the block's middle h1.
 */
export function layerGradientBuffers(kit: EncoderPlanKit) {
  const { config: c, B, T, N, S, t } = kit;
  const withPrefix = kit.prefix !== undefined && kit.backward;
  return {
    dh: t('d hidden', [N, c.C]),
    mid: t('d attention block out', [N, c.C]),
    act: t('d activation out', [N, c.F]),
    fc: t('d intermediate', [N, c.F]),
    att: t('d attention out', [N, c.C]),
    q: t('d q', [N, c.C]),
    k: t('d k', [N, c.C]),
    v: t('d v', [N, c.C]),
    rowStats: t('attention row stats', [B, c.NH, T, 2]),
    kAll: withPrefix ? t('d k with prefix', [B, S, c.NH, c.D]) : undefined,
    vAll: withPrefix ? t('d v with prefix', [B, S, c.NH, c.D]) : undefined,
    /** The gradient of a sublayer's raw output, through its bottleneck adapter. */
    sub: t('d sublayer out', [N, c.C]),
    /** The gradient of a projection's output before its dropout. */
    drop: t('d before dropout', [N, c.C]),
  };
}

export type LayerGradients = ReturnType<typeof layerGradientBuffers>;

export interface LayerPlan {
  /** [N, C]: the layer's output. */
  out: Tensor;
  forward: Work[];
  /** From d.dh = ∂loss/∂out to d.dh = ∂loss/∂x; empty for an evaluation plan. */
  backward: Work[];
}

/** `d` is needed (and used) only by a training plan. */
export function planEncoderLayer(
  kit: EncoderPlanKit,
  i: number,
  x: Tensor,
  d: LayerGradients | undefined,
): LayerPlan {
  const { runtime, config: c, adaptation, ctx, B, T, N, KP, S, t, heads, prefix } = kit;
  const sites = encoderLayerSites(c, kit.params, i);
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
  const norm1 = kit.norm(n.attentionNorm);
  const norm2 = kit.norm(n.outputNorm);
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
  // The attention probabilities are the first thing a layer drops (its stream comes first).
  const attentionDropout = kit.attentionDropout();
  const attention = {
    causal: false,
    keyMask: kit.inputs.prefix?.keyMask ?? kit.inputs.keyMask,
    ...(attentionDropout ? { dropout: attentionDropout } : {}),
  };
  // HF's order: dense → dropout → (adapter) → residual add and LayerNorm.
  const attDrop = c.dropout.attentionOutput
    ? kit.dropSite(c.dropout.hidden, `${l} attention dropout`)
    : undefined;
  const ffnDrop = kit.dropSite(c.dropout.hidden, `${l} output dropout`);
  const attDense = attDrop ? t(`${l} attention dense`, [N, c.C]) : rawAttention;
  const ffnDense = ffnDrop ? t(`${l} output dense`, [N, c.C]) : rawFfn;
  const hNext = t(`h${i + 1}`, [N, c.C]);
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
  const forward: Work[] = [
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
    kit.activate(s.fc, s.act),
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
  ];
  if (!kit.backward || !d) return { out: hNext, forward, backward: [] };
  const { dh } = d;
  const backward: Work[] = [
    // Post-LN: the residual's gradient is the norm's dx, so each norm backward overwrites.
    layerNormBackward(runtime, {
      x: s.sum2,
      gamma: norm2.gamma,
      mean: s.mean2,
      rstd: s.rstd2,
      dy: dh,
      dx: d.mid,
      ...kit.normGrads(norm2.name),
    }),
    ...(afterFfn ? [afterFfn.backward({ x: rawFfn, dy: d.mid, dx: d.sub })] : []),
    ...(ffnDrop ? [ffnDrop.backward(afterFfn ? d.sub : d.mid, d.drop)] : []),
    op.output.backward({ x: s.act, dy: ffnDrop ? d.drop : afterFfn ? d.sub : d.mid, dx: d.act }),
    kit.activateBackward(s.fc, d.act, d.fc),
    op.intermediate.backward({ x: s.h1, dy: d.fc, dx: d.mid, accumulateDx: true }),
    layerNormBackward(runtime, {
      x: s.sum1,
      gamma: norm1.gamma,
      mean: s.mean1,
      rstd: s.rstd1,
      dy: d.mid,
      dx: dh,
      ...kit.normGrads(norm1.name),
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
  ];
  return { out: hNext, forward, backward };
}
