/**
 * The independent reference for whole decoder models: Hugging Face's published semantics for
 * LlamaForCausalLM / MistralForCausalLM (with its sliding window) / Qwen2ForCausalLM / Qwen3ForCausalLM /
 * SmolLM3ForCausalLM / Gemma2ForCausalLM / Gemma3ForCausalLM (modeling_llama.py, modeling_mistral.py,
 * modeling_qwen2.py, modeling_qwen3.py, modeling_smollm3.py, modeling_gemma2.py, modeling_gemma3.py)
 * and GPT2LMHeadModel (modeling_gpt2.py), written directly in tfjs ops and differentiated by tfjs
 * autograd on its CPU backend. It shares nothing with the GPU model's structure: no kernels, no recorded
 * steps, no layouts. Used only by tests, as the oracle for logits, loss and every parameter's gradient.
 * The layer ops (norms, RoPE, linear, attention) are in tfjs-ops.ts; the PEFT forms and the model are here.
 */
import * as tf from '@tensorflow/tfjs';
import { type DecoderConfig, slidingWindowAt } from '../config';
import {
  attention,
  gpt2Gelu,
  heads,
  type LoraDelta,
  layerNorm,
  linear,
  mergeHeads,
  rmsNorm,
  rope,
} from './tfjs-ops';

export type Params = Map<string, tf.Tensor>;

/**
 * LoRA deltas by module path (e.g. "model.layers.0.self_attn.q_proj"): y += scale·x·Aᵀ·Bᵀ. With a
 * `magnitude` m [OUT] the delta is DoRA's (PEFT use_dora, no dropout): y = b + m/n ⊙ (x·Wᵀ + scale·x·Aᵀ·Bᵀ),
 * n = ‖W + scale·B·A‖ per output row, detached.
 */
export type LoraDeltas = Map<string, LoraDelta>;

/**
 * IA3 vectors by module path (PEFT's ia3_l, [OUT, 1] or, feed-forward, [1, IN]): l scales the output,
 * bias included, or for a feed-forward module the input. Applied in PEFT's merged form (ia3/layer.py,
 * merge), W·diag(l) or diag(l)·W and l ⊙ b, which equals the activation form exactly in real arithmetic.
 */
export type Ia3Vectors = Map<string, { l: tf.Tensor; feedforward: boolean }>;

/** The parameters with IA3 merged in; autograd carries the gradient back to each l. */
function withIa3(c: DecoderConfig, p: Params, ia3: Ia3Vectors): Params {
  const merged = new Map(p);
  for (const [path, { l, feedforward }] of ia3) {
    const w = p.get(`${path}.weight`);
    if (!w) throw new Error(`reference: no parameter ${path}.weight for IA3`);
    const v = l.reshape([-1]);
    // nn.Linear stores W [out, in], GPT-2's Conv1D [in, out]: l indexes W's rows when it scales the
    // output of the one or the input of the other.
    const lIndexesRows = feedforward === (c.family === 'gpt2');
    merged.set(`${path}.weight`, w.mul(lIndexesRows ? v.reshape([-1, 1]) : v.reshape([1, -1])));
    const b = p.get(`${path}.bias`);
    if (b && !feedforward) merged.set(`${path}.bias`, b.mul(v));
  }
  return merged;
}

/**
 * Bottleneck adapters (Houlsby et al. 2019) by "layer.position" ("0.attention", "0.ffn"): the sublayer
 * output h (after o_proj / attn.c_proj, or after down_proj / mlp.c_proj), before the residual add,
 * becomes h + up(act(down(h))) with nn.Linear weights down [m, C] and up [C, m], each with a bias.
 */
export type BottleneckAdapters = Map<
  string,
  {
    downWeight: tf.Tensor;
    downBias: tf.Tensor;
    upWeight: tf.Tensor;
    upBias: tf.Tensor;
    nonLinearity: 'relu' | 'gelu' | 'gelu_new' | 'silu';
  }
>;

/** h, or h + up(act(down(h))) when an adapter sits there. */
function withAdapter(h: tf.Tensor, adapter?: BottleneckAdapters extends Map<string, infer A> ? A : never) {
  if (!adapter) return h;
  const z = linear(h, adapter.downWeight, adapter.downBias);
  const act = {
    relu: () => tf.relu(z),
    silu: () => z.mul(tf.sigmoid(z)),
    gelu: () => z.mul(0.5).mul(tf.erf(z.mul(Math.SQRT1_2)).add(1)),
    gelu_new: () => gpt2Gelu(z),
  }[adapter.nonLinearity]();
  return h.add(linear(act, adapter.upWeight, adapter.upBias));
}

/**
 * Prompt tuning (PEFT's PeftModelForCausalLM.forward): prompt_embeddings [P, C] concatenated before every
 * row's token embeddings, P ones before its attention mask, P -100s before its labels; positions then
 * run over all P + T tokens. The token embeddings of a batch, with the prompt in front when there is one.
 */
function withPrompt(tokens: tf.Tensor, prompt?: tf.Tensor): tf.Tensor {
  if (!prompt) return tokens;
  const B = tokens.shape[0] as number;
  return tf.concat([tf.stack(Array(B).fill(prompt)), tokens], 1);
}

/**
 * Prefix tuning (PEFT's get_prompt and PeftModelForCausalLM.forward): past_key_values from
 * prompt_embeddings [P, L·2·W] viewed as [P, L·2, H, W/H] and permuted to [L·2, H, P, W/H]; entry 2l is
 * layer l's keys, 2l + 1 its values, H the key/value heads. They act as a filled KV cache: used as they
 * are (no RoPE), visible to every query, and the real tokens take positions P...
 */
function prefixPair(
  prefix: tf.Tensor,
  c: DecoderConfig,
  layer: number,
  heads: number,
  B: number,
): [tf.Tensor, tf.Tensor] {
  const P = prefix.shape[0] as number;
  const view = prefix.reshape([P, c.L * 2, heads, -1]);
  // [B, H, P, Dh], the layout of the model's own keys after `heads`.
  const pick = (j: number) => {
    const one = view.slice([0, j, 0, 0], [P, 1, heads, -1]).reshape([P, heads, -1]).transpose([1, 0, 2]);
    return tf.stack(Array(B).fill(one));
  };
  return [pick(2 * layer), pick(2 * layer + 1)];
}

function promptRows(rows: number[][], P: number, fill: number): number[][] {
  return P === 0 ? rows : rows.map((row) => [...Array(P).fill(fill), ...row]);
}

export interface Batch {
  /** [B, T] token ids. */
  ids: number[][];
  /** [B, T]: 1 for real tokens, 0 for right padding. */
  attentionMask: number[][];
  /** [B, T] labels, -100 ignored; HF shifts them inside the loss. */
  labels: number[][];
}

export function logitsOf(
  c: DecoderConfig,
  p: Params,
  batch: Batch,
  lora: LoraDeltas = new Map(),
  ia3?: Ia3Vectors,
  adapters?: BottleneckAdapters,
  prompt?: tf.Tensor,
  prefix?: tf.Tensor,
): tf.Tensor {
  const params = ia3 ? withIa3(c, p, ia3) : p;
  const P = prompt?.shape[0] ?? 0;
  const mask = promptRows(batch.attentionMask, P, 1);
  const KP = prefix?.shape[0] ?? 0;
  const keyMask = promptRows(mask, KP, 1);
  const B = batch.ids.length;
  // The layer's keys and values with the prefix in front, [B, H, KP + T, D].
  const withPrefix = (k: tf.Tensor, v: tf.Tensor, layer: number, heads: number): [tf.Tensor, tf.Tensor] => {
    if (!prefix) return [k, v];
    const [pk, pv] = prefixPair(prefix, c, layer, heads, B);
    return [tf.concat([pk, k], 2), tf.concat([pv, v], 2)];
  };
  const adapt = (h: tf.Tensor, layer: number, position: 'attention' | 'ffn') =>
    withAdapter(h, adapters?.get(`${layer}.${position}`));
  const get = (name: string) => {
    const t = params.get(name);
    if (!t) throw new Error(`reference: no parameter ${name}`);
    return t;
  };
  const opt = (name: string) => params.get(name);
  const ids = tf.tensor2d(batch.ids, undefined, 'int32');
  const T = P + (batch.ids[0]?.length ?? 0);
  if (c.family === 'gpt2') {
    let h = withPrompt(tf.gather(get('wte.weight'), ids), prompt).add(
      get('wpe.weight').slice([KP, 0], [T, c.C]),
    );
    for (let i = 0; i < c.L; i++) {
      const l = `h.${i}`;
      const a = layerNorm(h, get(`${l}.ln_1.weight`), get(`${l}.ln_1.bias`), c.normEps);
      // Conv1D: weight stored [in, out].
      const qkv = linear(
        a,
        get(`${l}.attn.c_attn.weight`).transpose(),
        get(`${l}.attn.c_attn.bias`),
        lora.get(`${l}.attn.c_attn`),
      );
      const [q, k, v] = tf.split(qkv, 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const [kp, vp] = withPrefix(heads(k, c.NH, c.D), heads(v, c.NH, c.D), i, c.NH);
      const o = mergeHeads(attention(heads(q, c.NH, c.D), kp, vp, c, keyMask));
      h = h.add(
        adapt(
          linear(
            o,
            get(`${l}.attn.c_proj.weight`).transpose(),
            get(`${l}.attn.c_proj.bias`),
            lora.get(`${l}.attn.c_proj`),
          ),
          i,
          'attention',
        ),
      );
      const m = layerNorm(h, get(`${l}.ln_2.weight`), get(`${l}.ln_2.bias`), c.normEps);
      const fc = linear(
        m,
        get(`${l}.mlp.c_fc.weight`).transpose(),
        get(`${l}.mlp.c_fc.bias`),
        lora.get(`${l}.mlp.c_fc`),
      );
      const gelu = fc
        .mul(0.5)
        .mul(tf.tanh(fc.add(fc.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
      h = h.add(
        adapt(
          linear(
            gelu,
            get(`${l}.mlp.c_proj.weight`).transpose(),
            get(`${l}.mlp.c_proj.bias`),
            lora.get(`${l}.mlp.c_proj`),
          ),
          i,
          'ffn',
        ),
      );
    }
    h = layerNorm(h, get('ln_f.weight'), get('ln_f.bias'), c.normEps);
    return linear(h, opt('lm_head.weight') ?? get('wte.weight'));
  }
  // Gemma (Gemma2RMSNorm, Gemma3RMSNorm): every norm scales by (1 + weight).
  const norm = (x: tf.Tensor, w: tf.Tensor) => rmsNorm(x, c.gemma ? w.add(1) : w, c.normEps);
  // Gemma3TextScaledWordEmbedding: the looked-up rows times √C; virtual tokens are not scaled.
  const embedded = tf.gather(get('model.embed_tokens.weight'), ids);
  let h = withPrompt(c.gemma ? embedded.mul(c.gemma.embedScale) : embedded, prompt);
  for (let i = 0; i < c.L; i++) {
    const l = `model.layers.${i}`;
    const x = norm(h, get(`${l}.input_layernorm.weight`));
    // Qwen3 and Gemma 3: q_norm / k_norm over each head's D values, before RoPE.
    const headNorm = (t: tf.Tensor, name: 'q_norm' | 'k_norm') => {
      const w = opt(`${l}.self_attn.${name}.weight`);
      return w ? norm(t, w) : t;
    };
    const window = slidingWindowAt(c, i);
    // Gemma 3's sliding layers rotate by rope_local_base_freq.
    const theta = window !== undefined ? (c.localRopeTheta ?? c.ropeTheta) : c.ropeTheta;
    // SmolLM3's NoPE layers (use_rope 0) leave q and k unrotated.
    const rotate = (t: tf.Tensor) => (c.nopeLayers?.includes(i) ? t : rope(t, c, T, KP, theta));
    // A projection of x, split into n heads [B, n, T, D].
    const project = (module: 'q_proj' | 'k_proj' | 'v_proj', n: number) => {
      const path = `${l}.self_attn.${module}`;
      return heads(linear(x, get(`${path}.weight`), opt(`${path}.bias`), lora.get(path)), n, c.D);
    };
    const q = rotate(headNorm(project('q_proj', c.NH), 'q_norm'));
    const k = rotate(headNorm(project('k_proj', c.KV), 'k_norm'));
    const v = project('v_proj', c.KV);
    const [kp, vp] = withPrefix(k, v, i, c.KV);
    const g = c.gemma;
    const o = mergeHeads(attention(q, kp, vp, c, keyMask, window, g?.attentionScale, g?.attentionSoftcap));
    // Gemma norms each sublayer's output before the residual add.
    const sublayerOut = (y: tf.Tensor, name: string) => (c.gemma ? norm(y, get(`${l}.${name}.weight`)) : y);
    const attentionOut = adapt(
      linear(
        o,
        get(`${l}.self_attn.o_proj.weight`),
        opt(`${l}.self_attn.o_proj.bias`),
        lora.get(`${l}.self_attn.o_proj`),
      ),
      i,
      'attention',
    );
    h = h.add(sublayerOut(attentionOut, 'post_attention_layernorm'));
    const y = norm(
      h,
      get(`${l}.${c.gemma ? 'pre_feedforward_layernorm' : 'post_attention_layernorm'}.weight`),
    );
    const gate = linear(
      y,
      get(`${l}.mlp.gate_proj.weight`),
      opt(`${l}.mlp.gate_proj.bias`),
      lora.get(`${l}.mlp.gate_proj`),
    );
    const up = linear(
      y,
      get(`${l}.mlp.up_proj.weight`),
      opt(`${l}.mlp.up_proj.bias`),
      lora.get(`${l}.mlp.up_proj`),
    );
    // Gemma's GeGLU (gelu_pytorch_tanh), or Llama's SwiGLU.
    const act = c.activation === 'gelu_tanh' ? gpt2Gelu(gate) : gate.mul(tf.sigmoid(gate));
    const ffnOut = adapt(
      linear(
        act.mul(up),
        get(`${l}.mlp.down_proj.weight`),
        opt(`${l}.mlp.down_proj.bias`),
        lora.get(`${l}.mlp.down_proj`),
      ),
      i,
      'ffn',
    );
    h = h.add(sublayerOut(ffnOut, 'post_feedforward_layernorm'));
  }
  h = norm(h, get('model.norm.weight'));
  const logits = linear(h, opt('lm_head.weight') ?? get('model.embed_tokens.weight'));
  // Gemma 2's final_logit_softcapping: logits / cap, tanh, · cap.
  const cap = c.gemma?.logitSoftcap;
  return cap === undefined ? logits : tf.tanh(logits.div(cap)).mul(cap);
}

/** HF's causal-LM loss: logits[:, :-1] against labels[:, 1:], mean over labels that are not -100. */
export function lossOf(
  c: DecoderConfig,
  p: Params,
  batch: Batch,
  lora: LoraDeltas = new Map(),
  ia3?: Ia3Vectors,
  adapters?: BottleneckAdapters,
  prompt?: tf.Tensor,
  prefix?: tf.Tensor,
): tf.Scalar {
  const logits = logitsOf(c, p, batch, lora, ia3, adapters, prompt, prefix);
  const [B, T, V] = logits.shape as number[];
  const shifted = logits
    .slice([0, 0, 0], [B as number, (T as number) - 1, V as number])
    .reshape([-1, V as number]);
  const labels = promptRows(batch.labels, prompt?.shape[0] ?? 0, -100).flatMap((row) => row.slice(1));
  const valid = labels.map((l): number => (l === -100 ? 0 : 1));
  const count = valid.reduce((a, b) => a + b, 0);
  const oneHot = tf.oneHot(
    tf.tensor1d(
      labels.map((l) => (l === -100 ? 0 : l)),
      'int32',
    ),
    V as number,
  );
  const logProbs = tf.logSoftmax(shifted, -1);
  const perToken = logProbs.mul(oneHot).sum(-1).neg().mul(tf.tensor1d(valid));
  return perToken.sum().div(Math.max(count, 1)) as tf.Scalar;
}

/** Loss and the gradient of every parameter, by tfjs autograd. */
export function lossAndGradients(c: DecoderConfig, p: Params, batch: Batch) {
  const names = [...p.keys()];
  const { value, grads } = tf.variableGrads(
    () => lossOf(c, p, batch),
    names.map((n) => p.get(n) as tf.Variable),
  );
  return {
    loss: value,
    grads: new Map(names.map((n) => [n, grads[(p.get(n) as tf.Variable).name] as tf.Tensor])),
  };
}
