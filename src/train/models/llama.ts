/**
 * Llama-family decoders on the engine's kernels: LlamaForCausalLM (Llama 2 and 3, SmolLM, TinyLlama),
 * Qwen2ForCausalLM (the same block with q/k/v biases) and Qwen3ForCausalLM (with each head's q and k
 * RMS-normalised before RoPE), as transformers' modeling_llama.py, modeling_qwen2.py and
 * modeling_qwen3.py define them, and Gemma2ForCausalLM and Gemma3ForCausalLM (modeling_gemma2.py,
 * modeling_gemma3.py; differences below):
 *   h = embed[ids]
 *   per layer: x = RMSNorm(h); q, k, v = x·Wqᵀ, x·Wkᵀ, x·Wvᵀ (+ b); [Qwen3: q, k = RMSNorm per head]
 *              q, k = RoPE(q, k)
 *              h = h + o_proj(attention(q, k, v))   (causal, GQA, key padding mask, sliding window)
 *              y = RMSNorm(h); h = h + down(silu(gate(y)) · up(y))
 *   xf = RMSNorm(h)   (the LM head and loss are in decoder-step.ts)
 * Gemma: h = embed[ids]·√C; every RMSNorm scales by (1 + weight); q·k by query_pre_attn_scalar^-½;
 * the MLP is GeGLU (gelu_tanh gate); each sublayer's output is normed before its residual add
 * (post_attention_layernorm, post_feedforward_layernorm) and the MLP's input by pre_feedforward_layernorm;
 * Gemma 3 norms each head's q and k and rotates its sliding layers by their own RoPE base; Gemma 2
 * soft-caps the attention scores (and, in decoder-step.ts, the logits).
 * Prefix tuning puts the adaptation's P keys and values before each layer's own (layers/kv-prefix.ts;
 * unrotated, with q and k rotated at positions P..). Gradient checkpointing keeps only each layer's
 * input h and reruns the layer's forward just before its backward.
 *
 * Dimension letters: B batch, T tokens, N = B·T rows, C width, NH query heads, KV key/value heads,
 * D head width, F feed-forward width, L layers.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { add } from '../../gpu/kernels/add/add';
import { attentionBackward, attentionForward } from '../../gpu/kernels/attention/attention';
import { embedding, embeddingBackward } from '../../gpu/kernels/embedding/embedding';
import { kvAppend } from '../../gpu/kernels/kv-append/kv-append';
import { rmsNormBackward, rmsNormForward } from '../../gpu/kernels/rmsnorm/rmsnorm';
import { rope } from '../../gpu/kernels/rope/rope';
import { swiglu, swigluBackward } from '../../gpu/kernels/swiglu/swiglu';
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
import { attentionOptionsOf } from './layers/attention-options';
import { headNorm } from './layers/head-norm';
import { prefixedKeyValuesBackward, prefixedKeyValuesForward } from './layers/kv-prefix';
import type { Linear } from './layers/linear';
import { llamaLayerBuffers } from './layers/llama-buffers';
import { postNorm } from './layers/post-norm';
import { RopeTables } from './layers/rope-tables';
import { type ParamMap, requireTensor } from './params';

type Work = Promise<Dispatch | Dispatch[]>;

export class LlamaModel implements DecoderModel {
  private readonly ropeTables: RopeTables;

  /** `runtime`: the one the weights were loaded into, which keeps the RoPE tables too. */
  constructor(
    readonly config: DecoderConfig,
    readonly params: ParamMap,
    runtime: Runtime,
  ) {
    this.ropeTables = new RopeTables(config, runtime);
  }

  private site(
    layer: number,
    path: string,
    bias: boolean,
    inFeatures: number,
    outFeatures: number,
  ): LinearSite {
    const name = `model.layers.${layer}.${path}`;
    const base: Linear = {
      name,
      weight: requireTensor(this.params, `${name}.weight`),
      ...(bias ? { bias: requireTensor(this.params, `${name}.bias`) } : {}),
      layout: 'out-in',
    };
    return { path: name, module: path.split('.').at(-1) as string, layer, base, inFeatures, outFeatures };
  }

  private layerSites(i: number) {
    const c = this.config;
    const [C, Q, KVW, F] = [c.C, c.NH * c.D, c.KV * c.D, c.F];
    return {
      q: this.site(i, 'self_attn.q_proj', c.qkvBias, C, Q),
      k: this.site(i, 'self_attn.k_proj', c.qkvBias, C, KVW),
      v: this.site(i, 'self_attn.v_proj', c.qkvBias, C, KVW),
      o: this.site(i, 'self_attn.o_proj', c.outBias, Q, C),
      gate: this.site(i, 'mlp.gate_proj', c.mlpBias, C, F),
      up: this.site(i, 'mlp.up_proj', c.mlpBias, C, F),
      down: this.site(i, 'mlp.down_proj', c.mlpBias, F, C),
    };
  }

  linearSites(): LinearSite[] {
    return Array.from({ length: this.config.L }, (_, i) => Object.values(this.layerSites(i))).flat();
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
    const a = runtime.arena;
    const t = (label: string, shape: number[]) => createTensor(a, label, shape);
    const ropeTableOf = (layer: number) => this.ropeTables.of(layer);
    const normOffset = c.gemma ? 1 : 0;
    const gateActivation = c.activation === 'gelu_tanh' ? 'gelu_tanh' : 'silu';
    const heads = (x: Tensor, n: number) => reshapeTensor(x, [B, T, n, c.D]);
    const cache = inputs.cache;
    const ctx = { runtime, N, training: backward };
    // Prefix tuning: P learned keys and values before each sequence's own, in every layer (kv-prefix.ts).
    const prefix = prefixOf(inputs, adaptation, { B, layers: c.L, kvHeads: c.KV, headDim: c.D }, ctx);
    const S = prefix.P + T;
    const attentionAt = attentionOptionsOf(c, prefix.keyMask ?? inputs.keyMask, cache);
    const positionOffsets = inputs.positionOffsets;

    const forward: Work[] = [];
    const hs: Tensor[] = [t('h0', [N, c.C])];
    forward.push(
      embedding(runtime, {
        table: requireTensor(this.params, 'model.embed_tokens.weight'),
        ids: inputs.ids.ids,
        out: hs[0] as Tensor,
        scale: c.gemma?.embedScale,
      }),
    );
    // Prompt tuning: the learned virtual-token embeddings over each row's placeholder rows.
    const virtualTokens = inputs.virtualTokens ?? 0;
    const prompt =
      virtualTokens > 0 ? adaptation.embeddings?.({ B, T, virtualTokens, width: c.C }, ctx) : undefined;
    if (prompt) forward.push(prompt.forward(hs[0] as Tensor));
    if (prefix.op) forward.push(prefix.op.prepare());

    const { dh, scratch, o, activations } = llamaLayerBuffers(a, c, {
      B,
      T,
      S,
      prefixed: Boolean(prefix.op),
      backward,
    });
    const checkpointing = backward && Boolean(options.gradientCheckpointing);
    const recomputed = checkpointing ? activations('recomputed layer') : undefined;

    const layerBackwards: Work[][] = [];
    for (let i = 0; i < c.L; i++) {
      const sites = this.layerSites(i);
      const op = {
        q: adaptation.linear(sites.q, ctx),
        k: adaptation.linear(sites.k, ctx),
        v: adaptation.linear(sites.v, ctx),
        o: adaptation.linear(sites.o, ctx),
        gate: adaptation.linear(sites.gate, ctx),
        up: adaptation.linear(sites.up, ctx),
        down: adaptation.linear(sites.down, ctx),
      };
      const afterAttention = adaptation.sublayer?.({ layer: i, position: 'attention', width: c.C }, ctx);
      const afterFfn = adaptation.sublayer?.({ layer: i, position: 'ffn', width: c.C }, ctx);
      const p = `model.layers.${i}`;
      const d = scratch;
      const s = recomputed ?? activations(`L${i}`);
      // Each sublayer's output: straight into the residual add, or (Gemma) into its post-norm first.
      const attentionOut = s.ao ?? o;
      const ffnOut = s.mo ?? o;
      // With an adapter after a sublayer, its raw output is kept for the adapter's backward.
      const rawAttention = afterAttention ? t(`L${i} attention projection`, [N, c.C]) : attentionOut;
      const rawFfn = afterFfn ? t(`L${i} mlp projection`, [N, c.C]) : ffnOut;
      const norm = (name: string) => ({ name, weight: requireTensor(this.params, `${p}.${name}.weight`) });
      const w = {
        inputNorm: norm('input_layernorm'),
        // The MLP's input norm; Gemma names it pre_feedforward_layernorm, and post_attention_layernorm
        // is its attention output's norm.
        postNorm: norm(c.gemma ? 'pre_feedforward_layernorm' : 'post_attention_layernorm'),
        ...(c.gemma
          ? {
              attentionOutNorm: norm('post_attention_layernorm'),
              ffnOutNorm: norm('post_feedforward_layernorm'),
            }
          : {}),
      };
      // Gemma: a sublayer output's post-norm, forward into o, backward from dh into d(output).
      const sandwich = (which: { name: string; weight: Tensor } | undefined, x: Tensor, rrms?: Tensor) =>
        which && rrms
          ? postNorm(
              runtime,
              { name: `${p}.${which.name}.weight`, weight: which.weight, x, out: o, rrms, eps: c.normEps },
              (name) => adaptation.baseGrad(name),
            )
          : undefined;
      const attentionPostNorm = sandwich(w.attentionOutNorm, attentionOut, s.ra);
      const ffnPostNorm = sandwich(w.ffnOutNorm, ffnOut, s.rm);
      // The gradient reaching each sublayer's output: dh, or what its post-norm's backward leaves.
      const dSublayerOut = d.dsandwich ?? dh;
      // Qwen3's per-head norms (layers/head-norm.ts), between each projection and RoPE.
      const headNormSite = (which: 'q' | 'k', x: Tensor, n: number, normed?: Tensor, rrms?: Tensor) =>
        normed && rrms
          ? headNorm(
              runtime,
              this.params,
              {
                name: `${p}.self_attn.${which}_norm.weight`,
                x,
                heads: n,
                headDim: c.D,
                normed,
                rrms,
                eps: c.normEps,
                weightOffset: normOffset,
              },
              (name) => adaptation.baseGrad(name),
            )
          : undefined;
      const qNorm = headNormSite('q', s.q, c.NH, d.qn, s.rq);
      const kNorm = headNormSite('k', s.k, c.KV, d.kn, s.rk);
      const h = hs[i] as Tensor;
      const hNext = t(`h${i + 1}`, [N, c.C]);
      hs.push(hNext);
      const cached = cache ? { k: cache.k[i] as Tensor, v: cache.v[i] as Tensor } : undefined;
      const prefixed =
        prefix.op && s.kAll && s.vAll
          ? {
              prefix: prefix.op,
              P: prefix.P,
              layer: i,
              k: heads(s.kr, c.KV),
              v: heads(s.v, c.KV),
              kAll: s.kAll,
              vAll: s.vAll,
            }
          : undefined;
      const attIo = {
        q: heads(s.qr, c.NH),
        k: cache?.attend && cached ? cached.k : (prefixed?.kAll ?? heads(s.kr, c.KV)),
        v: cache?.attend && cached ? cached.v : (prefixed?.vAll ?? heads(s.v, c.KV)),
        out: heads(s.att, c.NH),
        lse: s.lse,
      };
      // The layer's forward; run again before its backward under checkpointing (without the cache
      // writes, which only generation makes, and without the residual output, which is kept).
      const layerForward = (again: boolean): Work[] => [
        rmsNormForward(runtime, {
          x: h,
          weight: w.inputNorm.weight,
          y: s.x1,
          rrms: s.r1,
          eps: c.normEps,
          weightOffset: normOffset,
        }),
        op.q.forward(s.x1, s.q),
        op.k.forward(s.x1, s.k),
        op.v.forward(s.x1, s.v),
        ...(qNorm && kNorm ? [qNorm.forward(), kNorm.forward()] : []),
        rope(runtime, {
          x: heads(qNorm?.normed ?? s.q, c.NH),
          out: heads(s.qr, c.NH),
          invFreq: ropeTableOf(i),
          positionOffsets,
        }),
        rope(runtime, {
          x: heads(kNorm?.normed ?? s.k, c.KV),
          out: heads(s.kr, c.KV),
          invFreq: ropeTableOf(i),
          positionOffsets,
        }),
        ...(cached && !again
          ? [
              kvAppend(runtime, { src: heads(s.kr, c.KV), cache: cached.k, offsets: positionOffsets }),
              kvAppend(runtime, { src: heads(s.v, c.KV), cache: cached.v, offsets: positionOffsets }),
              // Generation with a prefix: the cache starts with it.
              ...(prefix.op && !cache?.attend ? [prefix.op.write(i, cached.k, cached.v)] : []),
            ]
          : []),
        ...(prefixed && !cache?.attend ? [prefixedKeyValuesForward(runtime, prefixed)] : []),
        attentionForward(runtime, attIo, attentionAt(i)),
        op.o.forward(s.att, rawAttention),
        ...(afterAttention ? [afterAttention.forward(rawAttention, attentionOut)] : []),
        ...(attentionPostNorm ? [attentionPostNorm.forward()] : []),
        add(runtime, { a: h, b: o, out: s.hm }),
        rmsNormForward(runtime, {
          x: s.hm,
          weight: w.postNorm.weight,
          y: s.x2,
          rrms: s.r2,
          eps: c.normEps,
          weightOffset: normOffset,
        }),
        op.gate.forward(s.x2, s.gate),
        op.up.forward(s.x2, s.up),
        swiglu(runtime, { gate: s.gate, up: s.up, out: s.act, activation: gateActivation }),
        op.down.forward(s.act, rawFfn),
        ...(afterFfn ? [afterFfn.forward(rawFfn, ffnOut)] : []),
        ...(ffnPostNorm ? [ffnPostNorm.forward()] : []),
        ...(again ? [] : [add(runtime, { a: s.hm, b: o, out: hNext })]),
      ];
      forward.push(...layerForward(false));
      if (!backward) continue;
      // The gradients reaching the q and k projections. With per-head norms, their backward writes them
      // into d q/k rotated, which nothing reads once RoPE's backward has.
      const [dqProjection, dkProjection] = qNorm && kNorm ? [d.dqr, d.dkr] : [d.dq, d.dk];
      layerBackwards.push([
        ...(checkpointing ? layerForward(true) : []),
        ...(ffnPostNorm ? [ffnPostNorm.backward(dh, dSublayerOut)] : []),
        ...(afterFfn ? [afterFfn.backward({ x: rawFfn, dy: dSublayerOut, dx: d.dsub })] : []),
        op.down.backward({ x: s.act, dy: afterFfn ? d.dsub : dSublayerOut, dx: d.dact }),
        swigluBackward(runtime, {
          gate: s.gate,
          up: s.up,
          dh: d.dact,
          dgate: d.dgate,
          dup: d.dup,
          activation: gateActivation,
        }),
        op.gate.backward({ x: s.x2, dy: d.dgate, dx: d.dx2 }),
        op.up.backward({ x: s.x2, dy: d.dup, dx: d.dx2, accumulateDx: true }),
        rmsNormBackward(runtime, {
          x: s.hm,
          weight: w.postNorm.weight,
          rrms: s.r2,
          dy: d.dx2,
          dx: dh,
          // Undefined when the norm is frozen (every method but full): the backward then writes only dx.
          dweight: adaptation.baseGrad(`${p}.${w.postNorm.name}.weight`),
          accumulateDx: true,
          weightOffset: normOffset,
        }),
        ...(attentionPostNorm ? [attentionPostNorm.backward(dh, dSublayerOut)] : []),
        ...(afterAttention
          ? [afterAttention.backward({ x: rawAttention, dy: dSublayerOut, dx: d.dsub })]
          : []),
        op.o.backward({ x: s.att, dy: afterAttention ? d.dsub : dSublayerOut, dx: d.datt }),
        attentionBackward(
          runtime,
          {
            ...attIo,
            dOut: heads(d.datt, c.NH),
            rowStats: d.rowStats,
            dq: heads(d.dqr, c.NH),
            dk: d.dkAll ?? heads(d.dkr, c.KV),
            dv: d.dvAll ?? heads(d.dv, c.KV),
          },
          attentionAt(i),
        ),
        ...(prefixed && d.dkAll && d.dvAll
          ? [
              prefixedKeyValuesBackward(runtime, prefixed, {
                dkAll: d.dkAll,
                dvAll: d.dvAll,
                dk: heads(d.dkr, c.KV),
                dv: heads(d.dv, c.KV),
              }),
            ]
          : []),
        // At the forward's positions (P.. with a prefix).
        rope(runtime, {
          x: heads(d.dqr, c.NH),
          out: heads(d.dq, c.NH),
          invFreq: ropeTableOf(i),
          positionOffsets,
          backward: true,
        }),
        rope(runtime, {
          x: heads(d.dkr, c.KV),
          out: heads(d.dk, c.KV),
          invFreq: ropeTableOf(i),
          positionOffsets,
          backward: true,
        }),
        ...(qNorm && kNorm ? [qNorm.backward(d.dq, d.dqr), kNorm.backward(d.dk, d.dkr)] : []),
        op.q.backward({ x: s.x1, dy: dqProjection, dx: d.dx1 }),
        op.k.backward({ x: s.x1, dy: dkProjection, dx: d.dx1, accumulateDx: true }),
        op.v.backward({ x: s.x1, dy: d.dv, dx: d.dx1, accumulateDx: true }),
        rmsNormBackward(runtime, {
          x: h,
          weight: w.inputNorm.weight,
          rrms: s.r1,
          dy: d.dx1,
          dx: dh,
          dweight: adaptation.baseGrad(`${p}.input_layernorm.weight`),
          accumulateDx: true,
          weightOffset: normOffset,
        }),
      ]);
    }

    const xf = t('xf', [N, c.C]);
    const rf = t('rrms final', [N]);
    const dxf = t('d xf', [N, c.C]);
    const finalNorm = requireTensor(this.params, 'model.norm.weight');
    const hLast = hs[c.L] as Tensor;
    forward.push(
      rmsNormForward(runtime, {
        x: hLast,
        weight: finalNorm,
        y: xf,
        rrms: rf,
        eps: c.normEps,
        weightOffset: normOffset,
      }),
    );
    const backwardWork: Work[] = [];
    if (backward) {
      backwardWork.push(
        rmsNormBackward(runtime, {
          x: hLast,
          weight: finalNorm,
          rrms: rf,
          dy: dxf,
          dx: dh,
          dweight: adaptation.baseGrad('model.norm.weight'),
          weightOffset: normOffset,
        }),
      );
      for (let i = c.L - 1; i >= 0; i--) backwardWork.push(...(layerBackwards[i] ?? []));
      if (prefix.op) backwardWork.push(prefix.op.finish());
      if (prompt) backwardWork.push(prompt.backward(dh));
      const embeddingGrad = adaptation.baseGrad('model.embed_tokens.weight');
      if (embeddingGrad) {
        backwardWork.push(
          // Tied: the LM head's backward wrote its part of this gradient first.
          embeddingBackward(runtime, {
            dout: dh,
            dtable: embeddingGrad,
            index: inputs.ids,
            accumulate: c.tieWordEmbeddings,
            scale: c.gemma?.embedScale,
          }),
        );
      }
    }
    return {
      forward: (await Promise.all(forward)).flat(),
      xf,
      dxf,
      backward: (await Promise.all(backwardWork)).flat(),
    };
  }
}
