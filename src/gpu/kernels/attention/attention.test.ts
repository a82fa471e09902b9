import { describe, expect, it } from 'vitest';
import { createTensor, releaseTensor, type Tensor, uploadTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { createRngState } from '../dropout/rng-state';
import { type AttentionDropout, attentionBackward, attentionForward } from './attention';
import { type AttentionRefSpec, attentionBackwardRef, attentionForwardRef } from './attention.ref';

interface Case {
  B: number;
  T: number;
  /** Key length; defaults to T (plus the prefix). */
  S?: number;
  /** Prefix tuning: this many keys before the T own ones, visible to every query and never padded. */
  prefix?: number;
  NH: number;
  KVH: number;
  D: number;
  causal: boolean;
  /** A sliding window of this many keys. */
  window?: number;
  /** Gemma 2's soft-cap on the scaled scores. */
  softcap?: number;
  /** Hide the last batch's keys past half of S ('right') or before it ('left'). */
  padded?: 'left' | 'right';
  /** Give the key mask as u32 instead of f32. */
  u32Mask?: boolean;
  scale?: number;
  /** Inputs are uniform in [-range, range). */
  range?: number;
  /** Attention-probability dropout with this p, mask key dropoutKey. */
  dropout?: number;
}

const dropoutKey = { seed: 1234, step: 7, stream: 3 };

function keyMaskOf(c: Case, S: number): Float32Array | undefined {
  if (!c.padded) return undefined;
  const mask = new Float32Array(c.B * S).fill(1);
  // The padding falls among the own keys, after any prefix.
  const P = c.prefix ?? 0;
  const own = S - P;
  const valid = Math.ceil(own / 2);
  for (let s = 0; s < own; s++) {
    const hidden = c.padded === 'right' ? s >= valid : s < own - valid;
    if (hidden) mask[(c.B - 1) * S + P + s] = 0;
  }
  return mask;
}

// Observed largest differences at range 1 are 1e-7 (out, dq) to 1e-6 (lse, Δ and dv over 70 keys); the
// errors grow with the score magnitude, range²·√D. Tolerances sit 5 to 10 times above them.
function tolerances(c: Case) {
  const big = (c.range ?? 1) ** 2;
  return {
    out: { atol: 1e-6 * big, rtol: 1e-5 },
    lse: { atol: 2e-6 * big, rtol: 1e-6 },
    rowStats: { atol: 4e-6 * big, rtol: 1e-5 },
    dq: { atol: 1e-6 * big, rtol: 1e-5 },
    // Reduced over every query of every head in the group: looser.
    dk: { atol: 5e-6 * big, rtol: 1e-5 },
    dv: { atol: 5e-6 * big, rtol: 1e-5 },
  };
}

async function checkAttention(c: Case) {
  const S = c.S ?? c.T + (c.prefix ?? 0);
  const random = seededRandom(c.B * 1009 + c.T * 101 + S * 31 + c.NH * 7 + c.D);
  const qShape = [c.B, c.T, c.NH, c.D];
  const kvShape = [c.B, S, c.KVH, c.D];
  const qSize = c.B * c.T * c.NH * c.D;
  const kvSize = c.B * S * c.KVH * c.D;
  const range = c.range ?? 1;
  const inputs: Record<string, { shape: number[]; data: Float32Array }> = {
    q: { shape: qShape, data: randomArray(random, qSize, range) },
    k: { shape: kvShape, data: randomArray(random, kvSize, range) },
    v: { shape: kvShape, data: randomArray(random, kvSize) },
    dOut: { shape: qShape, data: randomArray(random, qSize) },
  };
  const mask = keyMaskOf(c, S);
  if (mask) inputs.keyMask = { shape: [c.B, S], data: mask };
  const spec: AttentionRefSpec = { B: c.B, T: c.T, S, NH: c.NH, KVH: c.KVH, D: c.D, causal: c.causal };
  if (mask) spec.keyMask = Float64Array.from(mask);
  if (c.window !== undefined) spec.window = c.window;
  if (c.softcap !== undefined) spec.softcap = c.softcap;
  if (c.scale !== undefined) spec.scale = c.scale;
  if (c.dropout !== undefined) spec.dropout = { p: c.dropout, key: dropoutKey };
  const tol = tolerances(c);
  const runtime = await testRuntime();
  const extra: Tensor[] = [];
  const rngBuffers: GPUBuffer[] = [];
  try {
    await checkKernel(runtime, {
      name: `attention ${JSON.stringify(c)}`,
      inputs,
      outputs: {
        out: { shape: qShape, tol: tol.out },
        lse: { shape: [c.B, c.NH, c.T], tol: tol.lse },
        rowStats: { shape: [c.B, c.NH, c.T, 2], tol: tol.rowStats },
        dq: { shape: qShape, tol: tol.dq },
        dk: { shape: kvShape, tol: tol.dk },
        dv: { shape: kvShape, tol: tol.dv },
      },
      launch: async (rt, t) => {
        let keyMask = t.keyMask;
        if (mask && c.u32Mask) {
          keyMask = uploadTensor(rt.arena, 'keyMask (u32)', [c.B, S], Uint32Array.from(mask));
          extra.push(keyMask);
        }
        let dropout: AttentionDropout | undefined;
        if (c.dropout !== undefined) {
          const rng = createRngState(rt, dropoutKey.seed, 'attention dropout rng');
          rng.setStep(dropoutKey.step);
          rngBuffers.push(rng.buffer);
          dropout = { p: c.dropout, rng, stream: dropoutKey.stream };
        }
        const options = {
          causal: c.causal,
          keyMask,
          scale: c.scale,
          dropout,
          window: c.window,
          softcap: c.softcap,
        };
        const io = { q: t.q!, k: t.k!, v: t.v!, out: t.out!, lse: t.lse! };
        return [
          await attentionForward(rt, io, options),
          ...(await attentionBackward(
            rt,
            { ...io, dOut: t.dOut!, rowStats: t.rowStats!, dq: t.dq!, dk: t.dk!, dv: t.dv! },
            options,
          )),
        ];
      },
      reference: (x) => {
        const { out, lse } = attentionForwardRef(x.q!, x.k!, x.v!, spec);
        const rowStats = new Float64Array(2 * lse.length);
        for (let b = 0; b < c.B; b++)
          for (let t = 0; t < c.T; t++)
            for (let h = 0; h < c.NH; h++) {
              const row = (b * c.NH + h) * c.T + t;
              let delta = 0;
              for (let d = 0; d < c.D; d++) {
                const i = ((b * c.T + t) * c.NH + h) * c.D + d;
                delta += (x.dOut![i] as number) * (out[i] as number);
              }
              rowStats[2 * row] = (lse[row] as number) * Math.LOG2E;
              rowStats[2 * row + 1] = delta;
            }
        return { out, lse, rowStats, ...attentionBackwardRef(x.q!, x.k!, x.v!, x.dOut!, spec) };
      },
    });
  } finally {
    for (const t of extra) releaseTensor(runtime.arena, t);
    for (const buffer of rngBuffers) runtime.arena.release(buffer);
  }
}

describe('attention forward and backward', () => {
  it.each<Case>([
    { B: 2, T: 7, NH: 4, KVH: 2, D: 16, causal: true },
    { B: 1, T: 13, NH: 7, KVH: 1, D: 8, causal: true }, // GQA ratio 7
    { B: 1, T: 9, NH: 3, KVH: 3, D: 13, causal: false, scale: 0.3 }, // ratio 1, odd D, given scale
    { B: 2, T: 1, NH: 2, KVH: 1, D: 16, causal: true }, // one token
    { B: 1, T: 70, NH: 2, KVH: 1, D: 40, causal: true }, // 3 row blocks, ragged; the 64 bucket, ragged
    { B: 1, T: 21, NH: 2, KVH: 1, D: 128, causal: false }, // the largest head dim (the 128 bucket)
    { B: 1, T: 40, NH: 2, KVH: 2, D: 29, causal: true }, // the 32 bucket; two row blocks
    { B: 1, T: 19, NH: 2, KVH: 1, D: 200, causal: true }, // the 256 bucket (Gemma 3), its half-height tiles
  ])('at %j', async (c) => {
    await checkAttention(c);
  });

  it.each<Case>([
    { B: 1, T: 5, S: 21, NH: 4, KVH: 2, D: 16, causal: true }, // decoding against a KV cache
    { B: 1, T: 20, S: 37, NH: 2, KVH: 2, D: 8, causal: true }, // prefill onto a cache, across blocks
    { B: 1, T: 9, S: 4, NH: 2, KVH: 1, D: 8, causal: true }, // S < T: the first queries see nothing
  ])('with S ≠ T at %j', async (c) => {
    await checkAttention(c);
  });

  it.each<Case>([
    { B: 2, T: 11, NH: 2, KVH: 1, D: 16, causal: false, padded: 'right' }, // an encoder batch
    { B: 2, T: 11, NH: 2, KVH: 1, D: 16, causal: true, padded: 'right' }, // a padded decoder batch
    // Fully hidden queries give zeros; the mask comes as u32 this time.
    { B: 2, T: 19, NH: 4, KVH: 2, D: 16, causal: true, padded: 'left', u32Mask: true },
  ])('with a key padding mask at %j', async (c) => {
    await checkAttention(c);
  });

  // Prefix tuning's attention: S = P + T keys, the causal diagonal shifted by P, so every query sees the
  // whole prefix; the padded row hides only its own padding.
  it.each<Case>([
    { B: 2, T: 11, prefix: 3, NH: 4, KVH: 2, D: 8, causal: true, padded: 'right' },
    { B: 1, T: 17, prefix: 20, NH: 3, KVH: 1, D: 13, causal: true }, // a prefix longer than a block
  ])('with a key/value prefix at %j', async (c) => {
    await checkAttention(c);
  });

  // Attention-probability dropout: the kernels' recomputed mask against the reference's port of the hash
  // (a wrong index, stream or step, or a mask the backward draws differently, fails every output).
  it.each<Case>([
    { B: 2, T: 19, NH: 4, KVH: 2, D: 13, causal: false, padded: 'right', dropout: 0.3 }, // an encoder batch
    { B: 1, T: 5, S: 21, NH: 2, KVH: 1, D: 8, causal: true, dropout: 0.5 }, // S ≠ T, causal
  ])('with attention dropout at %j', async (c) => {
    await checkAttention(c);
  });

  // Sliding windows: the kernels skip whole tiles outside the window (first_key_seen_by, query_end), so the
  // cases span several row blocks and tiles, with windows that end inside a tile and ones wider than T.
  it.each<Case>([
    { B: 2, T: 45, NH: 4, KVH: 2, D: 16, causal: true, window: 7 },
    { B: 1, T: 70, NH: 2, KVH: 1, D: 8, causal: true, window: 33 }, // across row blocks and key tiles
    { B: 1, T: 9, NH: 2, KVH: 2, D: 8, causal: true, window: 1 }, // each query sees only itself
    { B: 1, T: 11, NH: 2, KVH: 1, D: 8, causal: true, window: 40 }, // wider than the row: plain causal
    { B: 1, T: 20, S: 37, NH: 2, KVH: 2, D: 8, causal: true, window: 10 }, // prefill onto a cache
    { B: 2, T: 19, NH: 2, KVH: 1, D: 16, causal: true, window: 5, padded: 'left' }, // left padding
    { B: 2, T: 11, prefix: 3, NH: 2, KVH: 1, D: 8, causal: true, window: 6, padded: 'right' },
    { B: 1, T: 37, NH: 2, KVH: 1, D: 13, causal: true, window: 9, dropout: 0.3 },
    { B: 1, T: 40, NH: 2, KVH: 1, D: 160, causal: true, window: 19 }, // the 256 bucket
  ])('with a sliding window at %j', async (c) => {
    await checkAttention(c);
  });

  // Gemma 2's soft-capping: scores of several units against caps of 1 to 3, so tanh bends them; a kernel
  // that caps only the forward, or forgets tanh's slope in one backward kernel, fails its gradients.
  it.each<Case>([
    { B: 2, T: 21, NH: 4, KVH: 2, D: 16, causal: true, softcap: 2, range: 2 },
    { B: 1, T: 40, NH: 2, KVH: 1, D: 13, causal: true, softcap: 1, range: 2, window: 7 },
    { B: 2, T: 11, NH: 2, KVH: 1, D: 8, causal: false, padded: 'right', softcap: 3, range: 2, dropout: 0.2 },
  ])('with soft-capped scores at %j', async (c) => {
    await checkAttention(c);
  });

  it('stays finite when scores reach the hundreds (the online softmax subtracts the max)', async () => {
    await checkAttention({ B: 1, T: 33, NH: 2, KVH: 1, D: 16, causal: true, range: 8 });
  });

  it('rejects unsupported shapes with messages naming them', async () => {
    const runtime = await testRuntime();
    const make = (label: string, shape: number[]) => createTensor(runtime.arena, label, shape);
    const q = make('q', [1, 4, 6, 288]);
    const k = make('k', [1, 4, 4, 288]);
    const io = { q, k, v: k, out: q, lse: make('lse', [1, 6, 4]) };
    await expect(attentionForward(runtime, io, { causal: true })).rejects.toThrow(
      /NH = 6 is not a multiple of KVH = 4.*q\[1, 4, 6, 288\]/,
    );
    const k3 = make('k3', [1, 4, 3, 288]);
    await expect(attentionForward(runtime, { ...io, k: k3, v: k3 }, { causal: true })).rejects.toThrow(
      /head dim D = 288 is unsupported; the kernels take 1 ≤ D ≤ 256/,
    );
    const rng = createRngState(runtime, 1, 'attention dropout rng');
    const q2 = make('q2', [1, 4, 2, 8]);
    const k2 = make('k2', [1, 4, 1, 8]);
    const valid = { q: q2, k: k2, v: k2, out: q2, lse: make('lse2', [1, 2, 4]) };
    await expect(
      attentionForward(runtime, valid, { causal: true, dropout: { p: 1, rng, stream: 0 } }),
    ).rejects.toThrow(/dropout probability must be in \[0, 1\), got 1/);
    await expect(attentionForward(runtime, valid, { causal: true, softcap: 0 })).rejects.toThrow(
      /a soft-cap must be a positive number, got 0/,
    );
    await expect(attentionForward(runtime, valid, { causal: false, window: 4 })).rejects.toThrow(
      /a sliding window must be a whole number of keys ≥ 1 on causal attention, got 4/,
    );
    runtime.arena.release(rng.buffer);
    for (const t of [q, k, k3, io.lse, q2, k2, valid.lse]) releaseTensor(runtime.arena, t);
  });
});
