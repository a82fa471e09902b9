/**
 * The layer-level ops of the tfjs reference decoder (tfjs-causal-lm.ts), as Hugging Face's modeling files
 * define them: RMSNorm, LayerNorm, rotate_half RoPE, nn.Linear (with a LoRA or DoRA delta), masked
 * grouped-query attention with an optional prefix cache, head split and merge, GPT-2's GELU. Plain tfjs
 * ops, differentiated by tfjs autograd; nothing shared with the GPU kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecoderConfig } from '../config';

/**
 * One LoRA delta: y += scale·x·Aᵀ·Bᵀ. With a `magnitude` m [OUT] it is DoRA's (PEFT use_dora, no
 * dropout): y = b + m/n ⊙ (x·Wᵀ + scale·x·Aᵀ·Bᵀ), n = ‖W + scale·B·A‖ per output row, detached.
 */
export interface LoraDelta {
  a: tf.Tensor;
  b: tf.Tensor;
  scale: number;
  magnitude?: tf.Tensor;
}

/** GPT-2's tanh approximation of GELU (gelu_new). */
export function gpt2Gelu(x: tf.Tensor): tf.Tensor {
  return x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
}

export function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  const variance = x.square().mean(-1, true);
  return x.mul(tf.rsqrt(variance.add(eps))).mul(w);
}

export function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const mean = x.mean(-1, true);
  const centered = x.sub(mean);
  const variance = centered.square().mean(-1, true);
  return centered
    .mul(tf.rsqrt(variance.add(eps)))
    .mul(w)
    .add(b);
}

/** HF `rotate_half` RoPE on [B, NH, T, D], at positions offset .. offset + T − 1. */
export function rope(x: tf.Tensor, c: DecoderConfig, T: number, offset = 0, theta = c.ropeTheta): tf.Tensor {
  const D = c.D;
  const invFreq = Array.from({ length: D / 2 }, (_, i) => 1 / theta ** ((2 * i) / D));
  const angles: number[][] = [];
  for (let t = offset; t < offset + T; t++) {
    const row = invFreq.map((f) => t * f);
    angles.push([...row, ...row]);
  }
  const phase = tf.tensor2d(angles);
  const [x1, x2] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
  const rotated = tf.concat([x2.neg(), x1], -1);
  return x.mul(tf.cos(phase)).add(rotated.mul(tf.sin(phase)));
}

export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor, lora?: LoraDelta): tf.Tensor {
  const flat = x.reshape([-1, x.shape[x.shape.length - 1] as number]);
  let y = tf.matMul(flat, w, false, true);
  if (lora) y = y.add(tf.matMul(tf.matMul(flat, lora.a, false, true), lora.b, false, true).mul(lora.scale));
  if (lora?.magnitude) {
    // tfjs has no stopGradient: the norm is taken from plain copies, so no gradient flows through it.
    const plain = (t: tf.Tensor) => tf.tensor(t.dataSync(), t.shape);
    const merged = plain(w).add(tf.matMul(plain(lora.b), plain(lora.a)).mul(lora.scale));
    y = y.mul(lora.magnitude.div(merged.square().sum(1).sqrt()));
  }
  const out = y.reshape([...x.shape.slice(0, -1), w.shape[0] as number]);
  return b ? out.add(b) : out;
}

/**
 * Attention over [B, NH, T, D] q and [B, KV, S, D] k, v with causal and key-padding masks [B, S]; with
 * S > T the first S − T keys are a cache (a prefix) that every query sees. A sliding window W hides the
 * keys W or more positions before the query (masking_utils' sliding_window_overlay: kv > q − W). A soft-cap
 * (Gemma 2) bends the scaled scores to cap·tanh(s / cap) first.
 */
export function attention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  c: DecoderConfig,
  mask: number[][],
  window = Number.POSITIVE_INFINITY,
  scale = 1 / Math.sqrt(c.D),
  softcap?: number,
): tf.Tensor {
  const [B, , T] = q.shape as number[];
  const S = k.shape[2] as number;
  const groups = c.NH / (k.shape[1] as number);
  // repeat_kv: each key/value head serves `groups` consecutive query heads.
  const kr = groups === 1 ? k : tf.stack(Array(groups).fill(k), 2).reshape([B as number, c.NH, S, c.D]);
  const vr = groups === 1 ? v : tf.stack(Array(groups).fill(v), 2).reshape([B as number, c.NH, S, c.D]);
  const scaled = tf.matMul(q, kr, false, true).mul(scale);
  // Gemma 2 (eager_attention_forward's softcap): cap·tanh(scores / cap), before the mask.
  const scores = softcap === undefined ? scaled : tf.tanh(scaled.div(softcap)).mul(softcap);
  const shift = S - (T as number);
  const bias: number[][][][] = mask.map((row) => [
    Array.from({ length: T as number }, (_, t) =>
      row.map((valid, s) => (s <= t + shift && s > t + shift - window && valid ? 0 : -1e9)),
    ),
  ]);
  const probs = tf.softmax(scores.add(tf.tensor4d(bias)), -1);
  return tf.matMul(probs, vr);
}

export function heads(x: tf.Tensor, n: number, D: number): tf.Tensor {
  const [B, T] = x.shape as number[];
  return x.reshape([B as number, T as number, n, D]).transpose([0, 2, 1, 3]);
}

export function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [B, NH, T, D] = x.shape as number[];
  return x.transpose([0, 2, 1, 3]).reshape([B as number, T as number, (NH as number) * (D as number)]);
}
