/**
 * Float64 CPU reference for scaled dot-product attention with grouped-query heads, forward and backward,
 * written from the definition: out = softmax(Q·Kᵀ·scale + mask)·V, one dense score row at a time.
 *
 * Shapes (B batch, T queries, S keys, NH query heads, KVH key/value heads, D head dim):
 *   q, out, dOut, dq [B, T, NH, D]     k, v, dk, dv [B, S, KVH, D]     lse [B, NH, T]     keyMask [B, S]
 * Query head h reads key/value head ⌊h / (NH/KVH)⌋. Key s is visible to query t when keyMask[b, s] ≠ 0
 * (if given) and, when causal, s ≤ t + (S − T), and with a window W also t + (S − T) − s < W. A query with no visible key gives out = 0, lse = 0 and
 * zero gradients. lse is the natural-log log-sum-exp of the row's scaled, visible scores.
 * Attention dropout (spec.dropout): out = (P ∘ Z)·V with Z[b, h, t, s] = 0 or 1/(1 − p) from
 * dropout.ref.ts's port of the kernels' hash, keyed by the [B, NH, T, S] index; lse is the undropped row's.
 * Soft-capping (spec.softcap, Gemma 2): scores cap·tanh(scale·q·k / cap), differentiated through tanh.
 */
import { type DropoutKey, dropoutKeep, dropoutScale, dropoutThreshold } from '../dropout/dropout.ref';

export interface AttentionRefSpec {
  B: number;
  T: number;
  S: number;
  NH: number;
  KVH: number;
  D: number;
  causal: boolean;
  /** A sliding window of this many keys (with causal). */
  window?: number;
  /** [B, S]; a key is visible where its entry is nonzero. */
  keyMask?: Float64Array;
  /** Defaults to 1/√D. */
  scale?: number;
  /** Gemma 2's soft-cap: the scaled score z becomes cap·tanh(z / cap) before the mask. */
  softcap?: number;
  /** Attention-probability dropout: probability p, the mask drawn from key (seed, step, stream). */
  dropout?: { p: number; key: DropoutKey };
}

/** Z[b, h, t, s]: what the probability is multiplied by, 0 or 1/(1 − p); 1 without dropout. */
export function attentionDropoutFactor(spec: AttentionRefSpec, b: number, h: number, t: number, s: number) {
  const drop = spec.dropout;
  if (!drop || drop.p <= 0) return 1;
  const index = ((b * spec.NH + h) * spec.T + t) * spec.S + s;
  // The kernels index in u32 arithmetic: wrap the same way.
  return dropoutKeep(drop.key, index >>> 0, dropoutThreshold(drop.p)) ? dropoutScale(drop.p) : 0;
}

export function attentionScale(spec: { D: number; scale?: number }): number {
  return spec.scale ?? 1 / Math.sqrt(spec.D);
}

const capScore = (spec: AttentionRefSpec, z: number) =>
  spec.softcap === undefined ? z : spec.softcap * Math.tanh(z / spec.softcap);

/** d(capped score)/d(scaled score) of query (b, t, h) and key s: 1 without a soft-cap. */
function capSlope(
  spec: AttentionRefSpec,
  q: Float64Array,
  k: Float64Array,
  b: number,
  t: number,
  h: number,
  s: number,
) {
  if (spec.softcap === undefined) return 1;
  let dot = 0;
  for (let d = 0; d < spec.D; d++)
    dot += (q[qIndex(spec, b, t, h) + d] as number) * (k[kvIndex(spec, b, s, h) + d] as number);
  return 1 - Math.tanh((attentionScale(spec) * dot) / spec.softcap) ** 2;
}

export function attentionVisible(spec: AttentionRefSpec, b: number, t: number, s: number): boolean {
  const distance = t + (spec.S - spec.T) - s;
  if (spec.causal && distance < 0) return false;
  if (spec.window !== undefined && distance >= spec.window) return false;
  return !spec.keyMask || (spec.keyMask[b * spec.S + s] as number) !== 0;
}

const qIndex = (spec: AttentionRefSpec, b: number, t: number, h: number) =>
  ((b * spec.T + t) * spec.NH + h) * spec.D;
const kvIndex = (spec: AttentionRefSpec, b: number, s: number, h: number) =>
  ((b * spec.S + s) * spec.KVH + Math.floor(h / (spec.NH / spec.KVH))) * spec.D;

/** The softmax row of query (b, t, h): probabilities over all S keys (0 where hidden) and its lse. */
function softmaxRow(
  q: Float64Array,
  k: Float64Array,
  spec: AttentionRefSpec,
  b: number,
  t: number,
  h: number,
) {
  const scale = attentionScale(spec);
  const z = new Float64Array(spec.S).fill(Number.NEGATIVE_INFINITY);
  for (let s = 0; s < spec.S; s++) {
    if (!attentionVisible(spec, b, t, s)) continue;
    let dot = 0;
    for (let d = 0; d < spec.D; d++)
      dot += (q[qIndex(spec, b, t, h) + d] as number) * (k[kvIndex(spec, b, s, h) + d] as number);
    z[s] = capScore(spec, scale * dot);
  }
  const max = Math.max(...z);
  const p = new Float64Array(spec.S);
  if (max === Number.NEGATIVE_INFINITY) return { p, lse: 0 };
  let sum = 0;
  for (let s = 0; s < spec.S; s++) sum += Math.exp((z[s] as number) - max);
  for (let s = 0; s < spec.S; s++) p[s] = Math.exp((z[s] as number) - max) / sum;
  return { p, lse: max + Math.log(sum) };
}

export function attentionForwardRef(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  spec: AttentionRefSpec,
): { out: Float64Array; lse: Float64Array } {
  const { B, T, S, NH, D } = spec;
  const out = new Float64Array(B * T * NH * D);
  const lse = new Float64Array(B * NH * T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const row = softmaxRow(q, k, spec, b, t, h);
        lse[(b * NH + h) * T + t] = row.lse;
        for (let s = 0; s < S; s++) {
          const p = (row.p[s] as number) * attentionDropoutFactor(spec, b, h, t, s);
          for (let d = 0; d < D; d++) {
            const o = qIndex(spec, b, t, h) + d;
            out[o] = (out[o] as number) + p * (v[kvIndex(spec, b, s, h) + d] as number);
          }
        }
      }
    }
  }
  return { out, lse };
}

/**
 * Gradients of out for an upstream dOut, by the chain rule through each softmax row:
 * dP = dOut·Vᵀ, dZ = P ∘ (dP − Σ_s P·dP) (the softmax Jacobian), dQ = scale·dZ·K, dK = scale·dZᵀ·Q,
 * dV = Pᵀ·dOut; dK and dV of a key/value head sum over the query heads that share it. With dropout the
 * forward used P ∘ Z: dP = Z ∘ (dOut·Vᵀ) and dV = (P ∘ Z)ᵀ·dOut.
 */
export function attentionBackwardRef(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  dOut: Float64Array,
  spec: AttentionRefSpec,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { B, T, S, NH, D } = spec;
  const scale = attentionScale(spec);
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const { p } = softmaxRow(q, k, spec, b, t, h);
        const qi = qIndex(spec, b, t, h);
        const dp = new Float64Array(S);
        let pDotDp = 0;
        for (let s = 0; s < S; s++) {
          let sum = 0;
          for (let d = 0; d < D; d++)
            sum += (dOut[qi + d] as number) * (v[kvIndex(spec, b, s, h) + d] as number);
          const z = attentionDropoutFactor(spec, b, h, t, s);
          dp[s] = z * sum;
          pDotDp += (p[s] as number) * z * sum;
        }
        for (let s = 0; s < S; s++) {
          const ps = p[s] as number;
          // Through the soft-cap, when there is one, to the scaled score.
          const dz = ps * ((dp[s] as number) - pDotDp) * capSlope(spec, q, k, b, t, h, s);
          const kept = ps * attentionDropoutFactor(spec, b, h, t, s);
          const ki = kvIndex(spec, b, s, h);
          for (let d = 0; d < D; d++) {
            dq[qi + d] = (dq[qi + d] as number) + scale * dz * (k[ki + d] as number);
            dk[ki + d] = (dk[ki + d] as number) + scale * dz * (q[qi + d] as number);
            dv[ki + d] = (dv[ki + d] as number) + kept * (dOut[qi + d] as number);
          }
        }
      }
    }
  }
  return { dq, dk, dv };
}
