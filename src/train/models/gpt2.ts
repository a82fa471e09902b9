/**
 * GPT-2 (GPT2LMHeadModel: gpt2, distilgpt2) on the engine's kernels, as transformers' modeling_gpt2.py
 * defines it:
 *   h = wte[ids] + wpe[positions]
 *   per layer: a = LayerNorm₁(h); q, k, v = a·W_attn + b (Conv1D, W stored [IN, OUT], split in three at upload)
 *              h = h + attention(q, k, v)·W_proj + b      (causal, key padding mask)
 *              m = LayerNorm₂(h); h = h + gelu_new(m·W_fc + b)·W_mlp_proj + b
 *   xf = LayerNorm_f(h)   (the tied LM head and the loss are in decoder-step.ts)
 *
 * Dimension letters: B batch, T tokens, N = B·T rows, C width, NH heads, D = C/NH, F = 4C, L layers.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { add } from '../../gpu/kernels/add/add';
import { attentionBackward, attentionForward } from '../../gpu/kernels/attention/attention';
import { embedding, embeddingBackward } from '../../gpu/kernels/embedding/embedding';
import { gelu, geluBackward } from '../../gpu/kernels/gelu/gelu';
import { kvAppend } from '../../gpu/kernels/kv-append/kv-append';
import { layerNormBackward, layerNormForward } from '../../gpu/kernels/layernorm/layernorm';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, reshapeTensor, type Tensor } from '../../gpu/tensor';
import type { DecoderConfig } from './config';
import type { DecoderModel, FamilyPlan, StepInputs } from './decoder-step';
import { type Linear, linearBackward, linearForward } from './layers/linear';
import { type ParamMap, requireTensor } from './params';

interface Norm {
  name: string;
  gamma: Tensor;
  beta: Tensor;
}

export class Gpt2Model implements DecoderModel {
  constructor(
    readonly config: DecoderConfig,
    readonly params: ParamMap,
  ) {}

  private conv1d(name: string): Linear {
    return {
      name,
      weight: requireTensor(this.params, `${name}.weight`),
      bias: requireTensor(this.params, `${name}.bias`),
      layout: 'in-out',
    };
  }

  private norm(name: string): Norm {
    return {
      name,
      gamma: requireTensor(this.params, `${name}.weight`),
      beta: requireTensor(this.params, `${name}.bias`),
    };
  }

  async plan(runtime: Runtime, inputs: StepInputs, grads: ParamMap | null): Promise<FamilyPlan> {
    const c = this.config;
    const { B, T } = inputs;
    if (T > c.P) throw new Error(`GPT-2 takes at most ${c.P} tokens per row; this step has ${T}.`);
    const N = B * T;
    const t = (label: string, shape: number[]) => createTensor(runtime.arena, label, shape);
    const heads = (x: Tensor) => reshapeTensor(x, [B, T, c.NH, c.D]);
    const cache = inputs.cache;
    // Decoding attends over the cache, whose mask already hides the slots not yet filled.
    const attention = cache?.attend
      ? { causal: false, keyMask: cache.mask }
      : { causal: true, keyMask: inputs.keyMask };
    const grad = (name: string) =>
      grads
        ? { weight: requireTensor(grads, `${name}.weight`), bias: requireTensor(grads, `${name}.bias`) }
        : {};
    const normGrads = (n: Norm) => ({
      dgamma: requireTensor(grads as ParamMap, `${n.name}.weight`),
      dbeta: requireTensor(grads as ParamMap, `${n.name}.bias`),
    });

    const positions = inputs.positions;
    if (!positions) throw new Error('GPT-2 needs position ids in its step inputs.');
    const wte = requireTensor(this.params, 'wte.weight');
    const wpe = requireTensor(this.params, 'wpe.weight');
    const tokenEmbedding = t('token embedding', [N, c.C]);
    const positionEmbedding = t('position embedding', [N, c.C]);
    const hs: Tensor[] = [t('h0', [N, c.C])];
    const forward: Promise<Dispatch | Dispatch[]>[] = [
      embedding(runtime, { table: wte, ids: inputs.ids.ids, out: tokenEmbedding }),
      embedding(runtime, { table: wpe, ids: positions.ids, out: positionEmbedding }),
      add(runtime, { a: tokenEmbedding, b: positionEmbedding, out: hs[0] as Tensor }),
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
      da: t('d attention input', [N, c.C]),
      rowStats: t('attention row stats', [B, c.NH, T, 2]),
    };
    const o = t('projection out', [N, c.C]);

    const layerBackwards: Promise<Dispatch | Dispatch[]>[][] = [];
    for (let i = 0; i < c.L; i++) {
      const p = `h.${i}`;
      const w = {
        ln1: this.norm(`${p}.ln_1`),
        ln2: this.norm(`${p}.ln_2`),
        q: this.conv1d(`${p}.attn.c_attn.q`),
        k: this.conv1d(`${p}.attn.c_attn.k`),
        v: this.conv1d(`${p}.attn.c_attn.v`),
        proj: this.conv1d(`${p}.attn.c_proj`),
        fc: this.conv1d(`${p}.mlp.c_fc`),
        mlpProj: this.conv1d(`${p}.mlp.c_proj`),
      };
      const h = hs[i] as Tensor;
      const s = {
        a: t(`L${i} ln1 out`, [N, c.C]),
        mean1: t(`L${i} mean1`, [N]),
        rstd1: t(`L${i} rstd1`, [N]),
        q: t(`L${i} q`, [N, c.C]),
        k: t(`L${i} k`, [N, c.C]),
        v: t(`L${i} v`, [N, c.C]),
        att: t(`L${i} attention`, [N, c.C]),
        lse: t(`L${i} lse`, [B, c.NH, T]),
        hm: t(`L${i} h mid`, [N, c.C]),
        m: t(`L${i} ln2 out`, [N, c.C]),
        mean2: t(`L${i} mean2`, [N]),
        rstd2: t(`L${i} rstd2`, [N]),
        fc: t(`L${i} fc`, [N, c.F]),
        g: t(`L${i} gelu`, [N, c.F]),
      };
      const hNext = t(`h${i + 1}`, [N, c.C]);
      hs.push(hNext);
      const cached = cache ? { k: cache.k[i] as Tensor, v: cache.v[i] as Tensor } : undefined;
      const attIo = {
        q: heads(s.q),
        k: cache?.attend && cached ? cached.k : heads(s.k),
        v: cache?.attend && cached ? cached.v : heads(s.v),
        out: heads(s.att),
        lse: s.lse,
      };
      const ln = (n: Norm, x: Tensor, y: Tensor, mean: Tensor, rstd: Tensor) =>
        layerNormForward(runtime, { x, gamma: n.gamma, beta: n.beta, y, mean, rstd, eps: c.normEps });
      forward.push(
        ln(w.ln1, h, s.a, s.mean1, s.rstd1),
        linearForward(runtime, w.q, s.a, s.q),
        linearForward(runtime, w.k, s.a, s.k),
        linearForward(runtime, w.v, s.a, s.v),
        ...(cached
          ? [
              kvAppend(runtime, { src: heads(s.k), cache: cached.k, offsets: inputs.positionOffsets }),
              kvAppend(runtime, { src: heads(s.v), cache: cached.v, offsets: inputs.positionOffsets }),
            ]
          : []),
        attentionForward(runtime, attIo, attention),
        linearForward(runtime, w.proj, s.att, o),
        add(runtime, { a: h, b: o, out: s.hm }),
        ln(w.ln2, s.hm, s.m, s.mean2, s.rstd2),
        linearForward(runtime, w.fc, s.m, s.fc),
        gelu(runtime, { x: s.fc, out: s.g }),
        linearForward(runtime, w.mlpProj, s.g, o),
        add(runtime, { a: s.hm, b: o, out: hNext }),
      );
      if (!grads) continue;
      layerBackwards.push([
        linearBackward(runtime, w.mlpProj, grad(w.mlpProj.name), { x: s.g, dy: dh, dx: d.dg }),
        geluBackward(runtime, { x: s.fc, dy: d.dg, dx: d.dfc }),
        linearBackward(runtime, w.fc, grad(w.fc.name), { x: s.m, dy: d.dfc, dx: d.dm }),
        layerNormBackward(runtime, {
          x: s.hm,
          gamma: w.ln2.gamma,
          mean: s.mean2,
          rstd: s.rstd2,
          dy: d.dm,
          dx: dh,
          ...normGrads(w.ln2),
          accumulateDx: true,
        }),
        linearBackward(runtime, w.proj, grad(w.proj.name), { x: s.att, dy: dh, dx: d.datt }),
        attentionBackward(
          runtime,
          {
            ...attIo,
            dOut: heads(d.datt),
            rowStats: d.rowStats,
            dq: heads(d.dq),
            dk: heads(d.dk),
            dv: heads(d.dv),
          },
          attention,
        ),
        linearBackward(runtime, w.q, grad(w.q.name), { x: s.a, dy: d.dq, dx: d.da }),
        linearBackward(runtime, w.k, grad(w.k.name), { x: s.a, dy: d.dk, dx: d.da, accumulateDx: true }),
        linearBackward(runtime, w.v, grad(w.v.name), { x: s.a, dy: d.dv, dx: d.da, accumulateDx: true }),
        layerNormBackward(runtime, {
          x: h,
          gamma: w.ln1.gamma,
          mean: s.mean1,
          rstd: s.rstd1,
          dy: d.da,
          dx: dh,
          ...normGrads(w.ln1),
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
    const backward: Promise<Dispatch | Dispatch[]>[] = [];
    if (grads) {
      backward.push(
        layerNormBackward(runtime, {
          x: hLast,
          gamma: lnf.gamma,
          mean: meanF,
          rstd: rstdF,
          dy: dxf,
          dx: dh,
          ...normGrads(lnf),
        }),
      );
      for (let i = c.L - 1; i >= 0; i--) backward.push(...(layerBackwards[i] ?? []));
      backward.push(
        // Tied: the LM head's backward wrote its part of the wte gradient first.
        embeddingBackward(runtime, {
          dout: dh,
          dtable: requireTensor(grads, 'wte.weight'),
          index: inputs.ids,
          accumulate: c.tieWordEmbeddings,
        }),
        embeddingBackward(runtime, {
          dout: dh,
          dtable: requireTensor(grads, 'wpe.weight'),
          index: positions,
        }),
      );
    }
    return {
      forward: (await Promise.all(forward)).flat(),
      xf,
      dxf,
      backward: (await Promise.all(backward)).flat(),
    };
  }
}
