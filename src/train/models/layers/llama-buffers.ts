/**
 * The buffers of a Llama-family step's layers (llama.ts): the backward's scratch, shared by every layer;
 * the projection output every sublayer writes before its residual add; and the activations each layer's
 * backward reads, kept from its forward (one set per layer, or with gradient checkpointing one set that
 * every layer's recomputed forward refills).
 */
import type { BufferArena } from '../../../gpu/arena';
import { createTensor } from '../../../gpu/tensor';
import type { DecoderConfig } from '../config';

export interface LayerBufferShape {
  B: number;
  T: number;
  /** Keys per row: T, plus a prefix's. */
  S: number;
  /** Prefix tuning: each layer's keys and values with the prefix in front. */
  prefixed: boolean;
  backward: boolean;
}

export function llamaLayerBuffers(arena: BufferArena, c: DecoderConfig, shape: LayerBufferShape) {
  const { B, T, S, prefixed, backward } = shape;
  const N = B * T;
  const t = (label: string, dims: number[]) => createTensor(arena, label, dims);
  // Scratch shared by every layer's backward.
  const dh = t('d residual', [N, c.C]);
  const scratch = {
    dact: t('d act', [N, c.F]),
    dgate: t('d gate', [N, c.F]),
    dup: t('d up', [N, c.F]),
    dx2: t('d mlp input', [N, c.C]),
    datt: t('d attention out', [N, c.NH * c.D]),
    dqr: t('d q rotated', [N, c.NH * c.D]),
    dkr: t('d k rotated', [N, c.KV * c.D]),
    dq: t('d q', [N, c.NH * c.D]),
    dk: t('d k', [N, c.KV * c.D]),
    dv: t('d v', [N, c.KV * c.D]),
    dx1: t('d attention input', [N, c.C]),
    // Qwen3: the per-head norms' outputs, read only by RoPE, so one pair serves every layer.
    ...(c.qkNorm ? { qn: t('q normed', [N, c.NH * c.D]), kn: t('k normed', [N, c.KV * c.D]) } : {}),
    dsub: t('d sublayer out', [N, c.C]),
    // Gemma: the gradient of a sublayer's output, before its post-norm.
    ...(c.gemma ? { dsandwich: t('d sublayer out before its norm', [N, c.C]) } : {}),
    rowStats: t('attention row stats', [B, c.NH, T, 2]),
    ...(prefixed && backward
      ? { dkAll: t('d k with prefix', [B, S, c.KV, c.D]), dvAll: t('d v with prefix', [B, S, c.KV, c.D]) }
      : {}),
  };
  const o = t('projection out', [N, c.C]);
  // What a layer's backward reads, kept from its forward; with gradient checkpointing one set serves
  // every layer and each layer's forward runs again just before its backward.
  const activations = (l: string) => ({
    x1: t(`${l} x1`, [N, c.C]),
    r1: t(`${l} rrms1`, [N]),
    q: t(`${l} q`, [N, c.NH * c.D]),
    k: t(`${l} k`, [N, c.KV * c.D]),
    v: t(`${l} v`, [N, c.KV * c.D]),
    qr: t(`${l} q rotated`, [N, c.NH * c.D]),
    kr: t(`${l} k rotated`, [N, c.KV * c.D]),
    att: t(`${l} attention`, [N, c.NH * c.D]),
    lse: t(`${l} lse`, [B, c.NH, T]),
    hm: t(`${l} h mid`, [N, c.C]),
    x2: t(`${l} x2`, [N, c.C]),
    r2: t(`${l} rrms2`, [N]),
    gate: t(`${l} gate`, [N, c.F]),
    up: t(`${l} up`, [N, c.F]),
    act: t(`${l} act`, [N, c.F]),
    ...(c.qkNorm ? { rq: t(`${l} q rrms`, [N * c.NH]), rk: t(`${l} k rrms`, [N * c.KV]) } : {}),
    // Gemma: each sublayer's output before its post-norm, and that norm's statistic.
    ...(c.gemma
      ? {
          ao: t(`${l} attention out`, [N, c.C]),
          ra: t(`${l} attention out rrms`, [N]),
          mo: t(`${l} mlp out`, [N, c.C]),
          rm: t(`${l} mlp out rrms`, [N]),
        }
      : {}),
    ...(prefixed
      ? {
          kAll: t(`${l} k with prefix`, [B, S, c.KV, c.D]),
          vAll: t(`${l} v with prefix`, [B, S, c.KV, c.D]),
        }
      : {}),
  });
  return { dh, scratch, o, activations };
}
