/**
 * The independent reference for encoder classifiers: Hugging Face's published semantics for
 * BertForSequenceClassification (modeling_bert.py), DistilBertForSequenceClassification
 * (modeling_distilbert.py) and RobertaForSequenceClassification (modeling_roberta.py), in eval mode (no
 * dropout; attention-probability dropout only when its masks are given explicitly), written directly in tfjs ops and differentiated by tfjs autograd on its CPU backend. It
 * shares nothing with the GPU model: the weight names are spelled out here, the attention mask is HF's
 * additive extended mask, RoBERTa's position ids are a cumulative sum. Used only by tests, as the oracle
 * for logits, loss and every parameter's gradient, with any of the PEFT methods' deltas (EncoderAdapters).
 */
import * as tf from '@tensorflow/tfjs';
import type { EncoderConfig } from '../bert-config';

export type Params = Map<string, tf.Tensor>;

/**
 * LoRA deltas by module path (e.g. "bert.encoder.layer.0.attention.self.query"): y += scale·x·Aᵀ·Bᵀ.
 * With a `magnitude` m [OUT] the delta is DoRA's (PEFT use_dora, no dropout):
 * y = b + m/n ⊙ (x·Wᵀ + scale·x·Aᵀ·Bᵀ), n = ‖W + scale·B·A‖ per output row, detached.
 */
export type LoraDeltas = Map<string, { a: tf.Tensor; b: tf.Tensor; scale: number; magnitude?: tf.Tensor }>;

/** The deltas of every method the encoder trains with; absent ones leave the model as it is. */
export interface EncoderAdapters {
  lora?: LoraDeltas;
  /**
   * IA3 vectors by module path (PEFT's ia3_l): a feed-forward module scales its input, y = (x ⊙ l)·Wᵀ + b;
   * any other its output, bias included, y = l ⊙ (x·Wᵀ + b).
   */
  ia3?: Map<string, { l: tf.Tensor; feedforward: boolean }>;
  /**
   * Bottleneck adapters by "layer.position" ("0.attention", "0.ffn"): the sublayer output h (after the
   * attention output dense, or the FFN output dense), before its residual add and LayerNorm, becomes
   * h + up(act(down(h))), nn.Linear weights down [m, C] and up [C, m] with biases.
   */
  bottleneck?: Map<
    string,
    {
      downWeight: tf.Tensor;
      downBias: tf.Tensor;
      upWeight: tf.Tensor;
      upBias: tf.Tensor;
      nonLinearity: 'relu';
    }
  >;
  /**
   * Prompt tuning (PeftModelForSequenceClassification.forward): prompt_embeddings [P, C] before each row's
   * word embeddings (inputs_embeds), P ones before the mask, P zeros before the token types; positions
   * over all P + T rows as HF makes them from inputs_embeds (0..; RoBERTa padding_idx + 1..).
   */
  prompt?: tf.Tensor;
  /**
   * Prefix tuning (_prefix_tuning_forward): past_key_values from prompt_embeddings [P, L·2·C] viewed as
   * [P, L·2, NH, D], entry 2l layer l's keys and 2l + 1 its values, before the layer's own; P ones before
   * the mask; positions offset by past_key_values_length P (RoBERTa: (cumsum(mask) + P)·mask + pad).
   */
  prefix?: tf.Tensor;
}

export interface ReferenceOptions {
  /**
   * Attention-probability dropout as training applies it: per layer, a [B, NH, T, S] factor (0 or
   * 1/(1 − p)) multiplying softmax(scores) before it meets V, as nn.Dropout on attention_probs does.
   */
  attentionDropout?: tf.Tensor[];
}

export interface EncoderBatch {
  /** [B, T] token ids, right-padded. */
  ids: number[][];
  /** [B, T] token types. */
  tokenTypes: number[][];
  /** [B, T]: 1 for real tokens, 0 for padding. */
  attentionMask: number[][];
  /** [B] class ids. */
  labels: number[];
}

function param(p: Params, name: string): tf.Tensor {
  const t = p.get(name);
  if (!t) throw new Error(`reference: no parameter ${name}`);
  return t;
}

/** nn.Linear: x·Wᵀ + b over the last axis, with the LoRA, DoRA or IA3 delta on this module, if any. */
function linear(p: Params, name: string, x: tf.Tensor, adapters: EncoderAdapters): tf.Tensor {
  const inFeatures = x.shape[x.shape.length - 1] as number;
  const ia3 = adapters.ia3?.get(name);
  let flat = x.reshape([-1, inFeatures]);
  if (ia3?.feedforward) flat = flat.mul(ia3.l.reshape([1, -1]));
  const weight = param(p, `${name}.weight`);
  let y = tf.matMul(flat, weight, false, true);
  const delta = adapters.lora?.get(name);
  if (delta)
    y = y.add(tf.matMul(tf.matMul(flat, delta.a, false, true), delta.b, false, true).mul(delta.scale));
  if (delta?.magnitude) {
    // tfjs has no stopGradient: the norm is taken from plain copies, so no gradient flows through it.
    const plain = (t: tf.Tensor) => tf.tensor(t.dataSync(), t.shape);
    const merged = plain(weight).add(tf.matMul(plain(delta.b), plain(delta.a)).mul(delta.scale));
    y = y.mul(delta.magnitude.div(merged.square().sum(1).sqrt()));
  }
  y = y.add(param(p, `${name}.bias`));
  if (ia3 && !ia3.feedforward) y = y.mul(ia3.l.reshape([1, -1]));
  return y.reshape([...x.shape.slice(0, -1), -1]);
}

/** h, or h + up(act(down(h))) when a bottleneck adapter sits there. */
function withBottleneck(h: tf.Tensor, adapters: EncoderAdapters, key: string): tf.Tensor {
  const adapter = adapters.bottleneck?.get(key);
  if (!adapter) return h;
  const z = tf.matMul(h.reshape([-1, h.shape.at(-1) as number]), adapter.downWeight, false, true);
  const act = tf.relu(z.add(adapter.downBias));
  const up = tf.matMul(act, adapter.upWeight, false, true).add(adapter.upBias);
  return h.add(up.reshape(h.shape));
}

/** nn.LayerNorm over the last axis (biased variance, as PyTorch). */
function layerNorm(p: Params, name: string, x: tf.Tensor, eps: number): tf.Tensor {
  const mean = x.mean(-1, true);
  const centered = x.sub(mean);
  const variance = centered.square().mean(-1, true);
  return centered
    .mul(tf.rsqrt(variance.add(eps)))
    .mul(param(p, `${name}.weight`))
    .add(param(p, `${name}.bias`));
}

function activate(kind: EncoderConfig['activation'], x: tf.Tensor): tf.Tensor {
  if (kind === 'relu') return tf.relu(x);
  if (kind === 'gelu_new')
    return x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
  // transformers' GELUActivation: x·½·(1 + erf(x/√2)).
  return x.mul(0.5).mul(tf.erf(x.mul(Math.SQRT1_2)).add(1));
}

/**
 * RoBERTa's create_position_ids_from_input_ids (past length added to the count), or from inputs_embeds
 * (sequential) when a prompt is prepended; past + 0.. for the others.
 */
function positionIds(c: EncoderConfig, ids: number[][], promptLength: number, past: number): number[][] {
  const width = (ids[0]?.length ?? 0) + promptLength;
  const sequential = (start: number) => ids.map(() => Array.from({ length: width }, (_, t) => start + t));
  if (c.family !== 'roberta') return sequential(past);
  if (promptLength > 0) return sequential(c.padTokenId + 1);
  return ids.map((row) => {
    let seen = 0;
    return row.map((id) => {
      if (id === c.padTokenId) return c.padTokenId;
      seen += 1;
      return seen + past + c.padTokenId;
    });
  });
}

const front = (rows: number[][], n: number, fill: number) =>
  rows.map((row) => [...new Array<number>(n).fill(fill), ...row]);

/** Layer `layer`'s prefix keys and values, [B, NH, P, D] each. */
function prefixPair(c: EncoderConfig, prefix: tf.Tensor, layer: number, B: number): [tf.Tensor, tf.Tensor] {
  const P = prefix.shape[0] as number;
  const view = prefix.reshape([P, c.L * 2, c.NH, c.D]);
  const pick = (j: number) => {
    const one = view.slice([0, j, 0, 0], [P, 1, c.NH, c.D]).reshape([P, c.NH, c.D]).transpose([1, 0, 2]);
    return tf.stack(new Array<tf.Tensor>(B).fill(one));
  };
  return [pick(2 * layer), pick(2 * layer + 1)];
}

interface LayerModules {
  q: string;
  k: string;
  v: string;
  o: string;
  norm1: string;
  up: string;
  down: string;
  norm2: string;
}

function layerModules(c: EncoderConfig, i: number): LayerModules {
  if (c.family === 'distilbert') {
    const p = `distilbert.transformer.layer.${i}`;
    return {
      q: `${p}.attention.q_lin`,
      k: `${p}.attention.k_lin`,
      v: `${p}.attention.v_lin`,
      o: `${p}.attention.out_lin`,
      norm1: `${p}.sa_layer_norm`,
      up: `${p}.ffn.lin1`,
      down: `${p}.ffn.lin2`,
      norm2: `${p}.output_layer_norm`,
    };
  }
  const p = `${c.family}.encoder.layer.${i}`;
  return {
    q: `${p}.attention.self.query`,
    k: `${p}.attention.self.key`,
    v: `${p}.attention.self.value`,
    o: `${p}.attention.output.dense`,
    norm1: `${p}.attention.output.LayerNorm`,
    up: `${p}.intermediate.dense`,
    down: `${p}.output.dense`,
    norm2: `${p}.output.LayerNorm`,
  };
}

/** [B, K] classification logits. */
export function encoderLogits(
  c: EncoderConfig,
  p: Params,
  batch: EncoderBatch,
  deltas: LoraDeltas | EncoderAdapters = new Map(),
  options: ReferenceOptions = {},
) {
  const lora: EncoderAdapters = deltas instanceof Map ? { lora: deltas } : deltas;
  const B = batch.ids.length;
  const PT = lora.prompt?.shape[0] ?? 0;
  const KP = lora.prefix?.shape[0] ?? 0;
  const T = (batch.ids[0]?.length ?? 0) + PT;
  const base = c.family;
  const ids = tf.tensor2d(batch.ids, [B, T - PT], 'int32');
  let x = tf.gather(param(p, `${base}.embeddings.word_embeddings.weight`), ids);
  if (lora.prompt) x = tf.concat([tf.stack(new Array<tf.Tensor>(B).fill(lora.prompt)), x], 1);
  x = x.add(
    tf.gather(
      param(p, `${base}.embeddings.position_embeddings.weight`),
      tf.tensor2d(positionIds(c, batch.ids, PT, KP), [B, T], 'int32'),
    ),
  );
  if (c.family !== 'distilbert') {
    x = x.add(
      tf.gather(
        param(p, `${base}.embeddings.token_type_embeddings.weight`),
        tf.tensor2d(front(batch.tokenTypes, PT, 0), [B, T], 'int32'),
      ),
    );
  }
  x = layerNorm(p, `${base}.embeddings.LayerNorm`, x, c.normEps);
  // get_extended_attention_mask: (1 − mask)·min over the key axis, broadcast over heads and queries.
  const S = KP + T;
  const keyBias = tf
    .tensor2d(front(front(batch.attentionMask, PT, 1), KP, 1), [B, S])
    .sub(1)
    .mul(1e9)
    .reshape([B, 1, 1, S]);
  const split = (t: tf.Tensor) => t.reshape([B, T, c.NH, c.D]).transpose([0, 2, 1, 3]);
  for (let i = 0; i < c.L; i++) {
    const m = layerModules(c, i);
    const q = split(linear(p, m.q, x, lora));
    let k = split(linear(p, m.k, x, lora));
    let v = split(linear(p, m.v, x, lora));
    if (lora.prefix) {
      const [pk, pv] = prefixPair(c, lora.prefix, i, B);
      k = tf.concat([pk, k], 2);
      v = tf.concat([pv, v], 2);
    }
    const scores = tf.matMul(q, k, false, true).div(Math.sqrt(c.D)).add(keyBias);
    let probs = tf.softmax(scores, -1);
    const drop = options.attentionDropout?.[i];
    if (drop) probs = probs.mul(drop);
    const context = tf.matMul(probs, v).transpose([0, 2, 1, 3]).reshape([B, T, c.C]);
    const attOut = withBottleneck(linear(p, m.o, context, lora), lora, `${i}.attention`);
    const h1 = layerNorm(p, m.norm1, attOut.add(x), c.normEps);
    const ffn = withBottleneck(
      linear(p, m.down, activate(c.activation, linear(p, m.up, h1, lora)), lora),
      lora,
      `${i}.ffn`,
    );
    x = layerNorm(p, m.norm2, ffn.add(h1), c.normEps);
  }
  const first = x.slice([0, 0, 0], [B, 1, c.C]).reshape([B, c.C]);
  if (c.family === 'distilbert') {
    return linear(p, 'classifier', tf.relu(linear(p, 'pre_classifier', first, lora)), lora);
  }
  if (c.family === 'roberta') {
    return linear(p, 'classifier.out_proj', tf.tanh(linear(p, 'classifier.dense', first, lora)), lora);
  }
  return linear(p, 'classifier', tf.tanh(linear(p, 'bert.pooler.dense', first, lora)), lora);
}

/** CrossEntropyLoss over the batch (single_label_classification): mean of −log softmax(logits)[label]. */
export function encoderLoss(
  c: EncoderConfig,
  p: Params,
  batch: EncoderBatch,
  lora: LoraDeltas | EncoderAdapters = new Map(),
  options: ReferenceOptions = {},
) {
  const logits = encoderLogits(c, p, batch, lora, options);
  const logProbs = tf.logSoftmax(logits, -1);
  const picked = logProbs.mul(tf.oneHot(tf.tensor1d(batch.labels, 'int32'), c.K));
  return picked.sum().neg().div(batch.labels.length) as tf.Scalar;
}

/** The loss and the gradient of every parameter in `p` (tf.Variables). */
export function encoderLossAndGradients(
  c: EncoderConfig,
  p: Params,
  batch: EncoderBatch,
  options: ReferenceOptions = {},
) {
  const names = [...p.keys()];
  const { value, grads } = tf.variableGrads(
    () => encoderLoss(c, p, batch, new Map(), options),
    names.map((n) => p.get(n) as tf.Variable),
  );
  return {
    loss: value,
    grads: new Map(names.map((n) => [n, grads[(p.get(n) as tf.Variable).name] as tf.Tensor])),
  };
}
