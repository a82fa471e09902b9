/**
 * GPT-2 (GPT2LMHeadModel: gpt2, distilgpt2) on the engine's kernels, as transformers' modeling_gpt2.py
 * defines it:
 *   h = wte[ids] + wpe[positions]
 *   per layer: a = LayerNorm₁(h); q|k|v = a·W_attn + b   (Conv1D: W stored [IN, OUT]; split by columns)
 *              h = h + attention(q, k, v)·W_proj + b      (causal, key padding mask)
 *              m = LayerNorm₂(h); h = h + gelu_new(m·W_fc + b)·W_mlp_proj + b
 *   xf = LayerNorm_f(h)   (the tied LM head and the loss are in decoder-step.ts)
 * Linear layers go through the training method's ops (adaptation.ts), keyed by their HF paths.
 * Prefix tuning puts the adaptation's P keys and values before each layer's own (layers/kv-prefix.ts;
 * the tokens take wpe positions P..). Gradient checkpointing keeps only each layer's input h and reruns
 * the layer's forward just before its backward.
 *
 * Dimension letters: B batch, T tokens, N = B·T rows, C width, NH heads, D = C/NH, F = 4C, L layers.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { add } from '../../gpu/kernels/add/add';
import { attentionBackward, attentionForward } from '../../gpu/kernels/attention/attention';
import { columnCopy } from '../../gpu/kernels/column-copy/column-copy';
import { embedding, embeddingBackward } from '../../gpu/kernels/embedding/embedding';
import { gelu, geluBackward } from '../../gpu/kernels/gelu/gelu';
import { kvAppend } from '../../gpu/kernels/kv-append/kv-append';
import { layerNormBackward, layerNormForward } from '../../gpu/kernels/layernorm/layernorm';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, reshapeTensor, type Tensor } from '../../gpu/tensor';
import type { Adaptation, LinearSite } from '../peft/adaptation';
import type { DecoderConfig } from './config';
import {
  type DecoderModel,
  type FamilyPlan,
  type FamilyPlanOptions,
  prefixOf,
  type StepInputs,
} from './decoder-step';
import { prefixedKeyValuesBackward, prefixedKeyValuesForward } from './layers/kv-prefix';
import { type ParamMap, requireTensor } from './params';

type Work = Promise<Dispatch | Dispatch[]>;

export class Gpt2Model implements DecoderModel {
  constructor(
    readonly config: DecoderConfig,
    readonly params: ParamMap,
  ) {}

  private site(layer: number, path: string, inFeatures: number, outFeatures: number): LinearSite {
    const name = `h.${layer}.${path}`;
    return {
      path: name,
      module: path.split('.').at(-1) as string,
      layer,
      base: {
        name,
        weight: requireTensor(this.params, `${name}.weight`),
        bias: requireTensor(this.params, `${name}.bias`),
        layout: 'in-out',
      },
      inFeatures,
      outFeatures,
    };
  }

  private layerSites(i: number) {
    const { C, F } = this.config;
    return {
      attn: this.site(i, 'attn.c_attn', C, 3 * C),
      proj: this.site(i, 'attn.c_proj', C, C),
      fc: this.site(i, 'mlp.c_fc', C, F),
      mlpProj: this.site(i, 'mlp.c_proj', F, C),
    };
  }

  linearSites(): LinearSite[] {
    return Array.from({ length: this.config.L }, (_, i) => Object.values(this.layerSites(i))).flat();
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
    inputs: StepInputs,
    adaptation: Adaptation,
    backward: boolean,
    options: FamilyPlanOptions = {},
  ): Promise<FamilyPlan> {
    const c = this.config;
    const { B, T } = inputs;
    const N = B * T;
    const ctx = { runtime, N, training: backward };
    // Prefix tuning: P learned keys and values before each sequence's own, in every layer (kv-prefix.ts);
    // the real tokens take positions P.. (DecoderStep.plan refuses a row past wpe).
    const prefix = prefixOf(inputs, adaptation, { B, layers: c.L, kvHeads: c.NH, headDim: c.D }, ctx);
    const S = prefix.P + T;
    const t = (label: string, shape: number[]) => createTensor(runtime.arena, label, shape);
    const heads = (x: Tensor) => reshapeTensor(x, [B, T, c.NH, c.D]);
    const cache = inputs.cache;
    // Decoding attends over the cache, whose mask already hides the slots not yet filled.
    const attention = cache?.attend
      ? { causal: false, keyMask: cache.mask }
      : { causal: true, keyMask: prefix.keyMask ?? inputs.keyMask };
    // A frozen LayerNorm gets neither gradient: its backward is then the dx pass alone.
    const normGrads = (name: string) => ({
      dgamma: adaptation.baseGrad(`${name}.weight`),
      dbeta: adaptation.baseGrad(`${name}.bias`),
    });
    const positions = inputs.positions;
    if (!positions) throw new Error('GPT-2 needs position ids in its step inputs.');

    const wte = requireTensor(this.params, 'wte.weight');
    const wpe = requireTensor(this.params, 'wpe.weight');
    const tokenEmbedding = t('token embedding', [N, c.C]);
    const positionEmbedding = t('position embedding', [N, c.C]);
    const hs: Tensor[] = [t('h0', [N, c.C])];
    // Prompt tuning: the learned virtual-token embeddings replace the placeholders' token embeddings;
    // like any input embedding they get their position's wpe added.
    const virtualTokens = inputs.virtualTokens ?? 0;
    const prompt =
      virtualTokens > 0 ? adaptation.embeddings?.({ B, T, virtualTokens, width: c.C }, ctx) : undefined;
    const forward: Work[] = [
      embedding(runtime, { table: wte, ids: inputs.ids.ids, out: tokenEmbedding }),
      ...(prompt ? [prompt.forward(tokenEmbedding)] : []),
      embedding(runtime, { table: wpe, ids: positions.ids, out: positionEmbedding }),
      add(runtime, { a: tokenEmbedding, b: positionEmbedding, out: hs[0] as Tensor }),
      ...(prefix.op ? [prefix.op.prepare()] : []),
    ];

    const dh = t('d residual', [N, c.C]);
    const d = {
      dg: t('d gelu out', [N, c.F]),
      dfc: t('d fc', [N, c.F]),
      dm: t('d mlp input', [N, c.C]),
      datt: t('d attention out', [N, c.C]),
      dq: t('d q', [N, c.C]),
      dk: t('d k', [N, c.C]),
      dv: t('d v', [N, c.C]),
      dqkv: t('d qkv', [N, 3 * c.C]),
      da: t('d attention input', [N, c.C]),
      dsub: t('d sublayer out', [N, c.C]),
      rowStats: t('attention row stats', [B, c.NH, T, 2]),
      ...(prefix.op && backward
        ? { dkAll: t('d k with prefix', [B, S, c.NH, c.D]), dvAll: t('d v with prefix', [B, S, c.NH, c.D]) }
        : {}),
    };
    const o = t('projection out', [N, c.C]);
    // What a layer's backward reads, kept from its forward; with gradient checkpointing one set serves
    // every layer and each layer's forward runs again just before its backward.
    const activations = (l: string) => ({
      a: t(`${l} ln1 out`, [N, c.C]),
      mean1: t(`${l} mean1`, [N]),
      rstd1: t(`${l} rstd1`, [N]),
      qkv: t(`${l} qkv`, [N, 3 * c.C]),
      q: t(`${l} q`, [N, c.C]),
      k: t(`${l} k`, [N, c.C]),
      v: t(`${l} v`, [N, c.C]),
      att: t(`${l} attention`, [N, c.C]),
      lse: t(`${l} lse`, [B, c.NH, T]),
      hm: t(`${l} h mid`, [N, c.C]),
      m: t(`${l} ln2 out`, [N, c.C]),
      mean2: t(`${l} mean2`, [N]),
      rstd2: t(`${l} rstd2`, [N]),
      fc: t(`${l} fc`, [N, c.F]),
      g: t(`${l} gelu`, [N, c.F]),
      ...(prefix.op
        ? {
            kAll: t(`${l} k with prefix`, [B, S, c.NH, c.D]),
            vAll: t(`${l} v with prefix`, [B, S, c.NH, c.D]),
          }
        : {}),
    });
    const checkpointing = backward && Boolean(options.gradientCheckpointing);
    const recomputed = checkpointing ? activations('recomputed layer') : undefined;

    const layerBackwards: Work[][] = [];
    for (let i = 0; i < c.L; i++) {
      const sites = this.layerSites(i);
      const op = {
        attn: adaptation.linear(sites.attn, ctx),
        proj: adaptation.linear(sites.proj, ctx),
        fc: adaptation.linear(sites.fc, ctx),
        mlpProj: adaptation.linear(sites.mlpProj, ctx),
      };
      const afterAttention = adaptation.sublayer?.({ layer: i, position: 'attention', width: c.C }, ctx);
      const afterFfn = adaptation.sublayer?.({ layer: i, position: 'ffn', width: c.C }, ctx);
      // With an adapter after a sublayer, its raw output is kept for the adapter's backward.
      const rawAttention = afterAttention ? t(`L${i} attention projection`, [N, c.C]) : o;
      const rawFfn = afterFfn ? t(`L${i} mlp projection`, [N, c.C]) : o;
      const ln1 = this.norm(`h.${i}.ln_1`);
      const ln2 = this.norm(`h.${i}.ln_2`);
      const h = hs[i] as Tensor;
      const s = recomputed ?? activations(`L${i}`);
      const hNext = t(`h${i + 1}`, [N, c.C]);
      hs.push(hNext);
      const parts = [s.q, s.k, s.v];
      const cached = cache ? { k: cache.k[i] as Tensor, v: cache.v[i] as Tensor } : undefined;
      const prefixed =
        prefix.op && s.kAll && s.vAll
          ? {
              prefix: prefix.op,
              P: prefix.P,
              layer: i,
              k: heads(s.k),
              v: heads(s.v),
              kAll: s.kAll,
              vAll: s.vAll,
            }
          : undefined;
      const attIo = {
        q: heads(s.q),
        k: cache?.attend && cached ? cached.k : (prefixed?.kAll ?? heads(s.k)),
        v: cache?.attend && cached ? cached.v : (prefixed?.vAll ?? heads(s.v)),
        out: heads(s.att),
        lse: s.lse,
      };
      // The layer's forward; run again before its backward under checkpointing (without the cache
      // writes, which only generation makes, and without the residual output, which is kept).
      const layerForward = (again: boolean): Work[] => [
        layerNormForward(runtime, {
          x: h,
          gamma: ln1.gamma,
          beta: ln1.beta,
          y: s.a,
          mean: s.mean1,
          rstd: s.rstd1,
          eps: c.normEps,
        }),
        op.attn.forward(s.a, s.qkv),
        ...parts.map((dst, p) =>
          columnCopy(runtime, { src: s.qkv, srcOffset: p * c.C, dst, dstOffset: 0, width: c.C }),
        ),
        ...(cached && !again
          ? [
              kvAppend(runtime, { src: heads(s.k), cache: cached.k, offsets: inputs.positionOffsets }),
              kvAppend(runtime, { src: heads(s.v), cache: cached.v, offsets: inputs.positionOffsets }),
              // Generation with a prefix: the cache starts with it.
              ...(prefix.op && !cache?.attend ? [prefix.op.write(i, cached.k, cached.v)] : []),
            ]
          : []),
        ...(prefixed && !cache?.attend ? [prefixedKeyValuesForward(runtime, prefixed)] : []),
        attentionForward(runtime, attIo, attention),
        op.proj.forward(s.att, rawAttention),
        ...(afterAttention ? [afterAttention.forward(rawAttention, o)] : []),
        add(runtime, { a: h, b: o, out: s.hm }),
        layerNormForward(runtime, {
          x: s.hm,
          gamma: ln2.gamma,
          beta: ln2.beta,
          y: s.m,
          mean: s.mean2,
          rstd: s.rstd2,
          eps: c.normEps,
        }),
        op.fc.forward(s.m, s.fc),
        gelu(runtime, { x: s.fc, out: s.g }),
        op.mlpProj.forward(s.g, rawFfn),
        ...(afterFfn ? [afterFfn.forward(rawFfn, o)] : []),
        ...(again ? [] : [add(runtime, { a: s.hm, b: o, out: hNext })]),
      ];
      forward.push(...layerForward(false));
      if (!backward) continue;
      const dParts = [d.dq, d.dk, d.dv];
      layerBackwards.push([
        ...(checkpointing ? layerForward(true) : []),
        ...(afterFfn ? [afterFfn.backward({ x: rawFfn, dy: dh, dx: d.dsub })] : []),
        op.mlpProj.backward({ x: s.g, dy: afterFfn ? d.dsub : dh, dx: d.dg }),
        geluBackward(runtime, { x: s.fc, dy: d.dg, dx: d.dfc }),
        op.fc.backward({ x: s.m, dy: d.dfc, dx: d.dm }),
        layerNormBackward(runtime, {
          x: s.hm,
          gamma: ln2.gamma,
          mean: s.mean2,
          rstd: s.rstd2,
          dy: d.dm,
          dx: dh,
          ...normGrads(ln2.name),
          accumulateDx: true,
        }),
        ...(afterAttention ? [afterAttention.backward({ x: rawAttention, dy: dh, dx: d.dsub })] : []),
        op.proj.backward({ x: s.att, dy: afterAttention ? d.dsub : dh, dx: d.datt }),
        attentionBackward(
          runtime,
          {
            ...attIo,
            dOut: heads(d.datt),
            rowStats: d.rowStats,
            dq: heads(d.dq),
            dk: d.dkAll ?? heads(d.dk),
            dv: d.dvAll ?? heads(d.dv),
          },
          attention,
        ),
        ...(prefixed && d.dkAll && d.dvAll
          ? [
              prefixedKeyValuesBackward(runtime, prefixed, {
                dkAll: d.dkAll,
                dvAll: d.dvAll,
                dk: heads(d.dk),
                dv: heads(d.dv),
              }),
            ]
          : []),
        ...dParts.map((src, p) =>
          columnCopy(runtime, { src, srcOffset: 0, dst: d.dqkv, dstOffset: p * c.C, width: c.C }),
        ),
        op.attn.backward({ x: s.a, dy: d.dqkv, dx: d.da }),
        layerNormBackward(runtime, {
          x: h,
          gamma: ln1.gamma,
          mean: s.mean1,
          rstd: s.rstd1,
          dy: d.da,
          dx: dh,
          ...normGrads(ln1.name),
          accumulateDx: true,
        }),
      ]);
    }

    const lnf = this.norm('ln_f');
    const xf = t('xf', [N, c.C]);
    const meanF = t('mean final', [N]);
    const rstdF = t('rstd final', [N]);
    const dxf = t('d xf', [N, c.C]);
    const hLast = hs[c.L] as Tensor;
    forward.push(
      layerNormForward(runtime, {
        x: hLast,
        gamma: lnf.gamma,
        beta: lnf.beta,
        y: xf,
        mean: meanF,
        rstd: rstdF,
        eps: c.normEps,
      }),
    );
    const backwardWork: Work[] = [];
    if (backward) {
      backwardWork.push(
        layerNormBackward(runtime, {
          x: hLast,
          gamma: lnf.gamma,
          mean: meanF,
          rstd: rstdF,
          dy: dxf,
          dx: dh,
          ...normGrads('ln_f'),
        }),
      );
      for (let i = c.L - 1; i >= 0; i--) backwardWork.push(...(layerBackwards[i] ?? []));
      if (prefix.op) backwardWork.push(prefix.op.finish());
      // The token embeddings' gradient is dh itself (h0 = token + position embeddings).
      if (prompt) backwardWork.push(prompt.backward(dh));
      const wteGrad = adaptation.baseGrad('wte.weight');
      const wpeGrad = adaptation.baseGrad('wpe.weight');
      // Tied: the LM head's backward wrote its part of the wte gradient first.
      if (wteGrad)
        backwardWork.push(
          embeddingBackward(runtime, {
            dout: dh,
            dtable: wteGrad,
            index: inputs.ids,
            accumulate: c.tieWordEmbeddings,
          }),
        );
      if (wpeGrad)
        backwardWork.push(embeddingBackward(runtime, { dout: dh, dtable: wpeGrad, index: positions }));
    }
    return {
      forward: (await Promise.all(forward)).flat(),
      xf,
      dxf,
      backward: (await Promise.all(backwardWork)).flat(),
    };
  }
}
