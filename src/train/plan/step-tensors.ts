/**
 * The buffers one planned step allocates (DecoderStep.plan with the family's plan, llama.ts or gpt2.ts),
 * tensor for tensor: the batch inputs and their embedding index, the residual stream, what each layer
 * keeps for its backward (one shared set under gradient checkpointing), the backward's shared scratch,
 * the norms' partial parameter-gradient sums (full fine-tuning only), the logits [R, V] of one LM head
 * chunk of R rows (R = N unless the logits would pass lm-head-chunks.ts's budget; cross-entropy writes
 * dlogits over them in place, so there is no second [R, V]) with the chunk's input and its gradient
 * [R, C] when chunked, and the loss rows.
 *
 * Dimension letters: B batch, T rows per sequence (prompt tuning's virtual tokens included), N = B·T,
 * S = prefix + T keys, C width, NH/KV heads, D head width, F feed-forward width, L layers, V vocabulary.
 */
import type { DecoderConfig } from '../models/config';
import { lmHeadChunkRows } from '../models/lm-head-chunks';
import type { Ledger } from './ledger';
import type { MethodSettings } from './method-settings';
import { splitKWorkspaceBytes, splitKWorkspaceUsed } from './split-k-workspace';

/** rmsnorm/layernorm backward partial rows (src/gpu/kernels/rmsnorm/row-segments.ts, partialPlan). */
export function normPartialRows(rows: number, cols: number): number {
  let lanes = 32;
  while (lanes < 256 && lanes * 32 < cols) lanes *= 2;
  const perGroup = 256 / lanes;
  const workgroups = Math.min(Math.ceil(rows / perGroup), 1024);
  return Math.min(workgroups * perGroup, rows);
}

/** Only full fine-tuning trains the norms; every other method leaves them frozen. */
export function normsTrain(m: MethodSettings): boolean {
  return m.method === 'full';
}

export interface StepShape {
  B: number;
  /** Rows per sequence, virtual tokens included. */
  T: number;
  /** Prefix tuning's key/value pairs before each sequence (0 without). */
  prefix: number;
  /** Rows per LM head chunk; lm-head-chunks.ts's budget when absent. */
  lmHeadChunkRows?: number;
}

/** Prompt tuning runs P placeholder rows per sequence; prefix tuning P keys before them. */
export function stepShape(m: MethodSettings, B: number, seqLen: number): StepShape {
  return {
    B,
    T: seqLen + (m.method === 'prompt' ? m.numVirtualTokens : 0),
    prefix: m.method === 'prefix' ? m.numVirtualTokens : 0,
  };
}

export function stepBuffers(
  c: DecoderConfig,
  m: MethodSettings,
  shape: StepShape,
  backward: boolean,
  checkpointing: boolean,
  ledger: Ledger,
): void {
  const { B, T } = shape;
  const N = B * T;
  const S = shape.prefix + T;
  const prefixed = shape.prefix > 0;
  const kvHeads = c.family === 'gpt2' ? c.NH : c.KV;
  const w = (label: string, dims: number[], count = 1) => ledger.tensor('workspace', label, dims, count);
  const act = (label: string, dims: number[], count = 1) => ledger.tensor('activations', label, dims, count);

  // DecoderStep's inputs: ids with their CSR index [V + 1], mask, labels, position offsets.
  w('input ids', [N]);
  w('input ids rowStart', [c.V + 1]);
  w('input ids tokens', [N]);
  w('attention mask', [N]);
  w('labels', [N]);
  w('position offsets', [B]);
  if (c.positions === 'learned') {
    w('positions', [N]);
    w('positions rowStart', [c.P + 1]);
    w('positions tokens', [N]);
  }
  if (prefixed) w('attention mask with prefix', [B, S]);

  // Kept for the backward: per layer, or one set reused by every layer under checkpointing.
  const sets = backward && checkpointing ? 1 : c.L;
  const NC = [N, c.C];
  if (c.family === 'gpt2') {
    act('token and position embeddings, h0', NC, 3);
    w('d residual', NC);
    w('d gelu out, d fc', [N, c.F], 2);
    w('d mlp input, attention out, q, k, v', NC, 5);
    w('d qkv', [N, 3 * c.C]);
    w('d attention input, sublayer out', NC, 2);
    act('projection out', NC);
    act('ln1 out, q, k, v, attention, h mid, ln2 out', NC, 7 * sets);
    act('mean/rstd 1 and 2', [N], 4 * sets);
    act('qkv', [N, 3 * c.C], sets);
    act('fc, gelu', [N, c.F], 2 * sets);
    act('final norm out', NC);
    act('mean/rstd final', [N], 2);
    w('d xf', NC);
  } else {
    const [Q, KVW] = [c.NH * c.D, c.KV * c.D];
    act('rope inv_freq', [c.D / 2]);
    if (c.nopeLayers?.length) act('NoPE inv_freq (zeros)', [c.D / 2]);
    if (c.localRopeTheta !== undefined) act('sliding layers inv_freq', [c.D / 2]);
    act('h0', NC);
    w('d residual', NC);
    w('d act, gate, up', [N, c.F], 3);
    w('d mlp input, attention input, sublayer out', NC, 3);
    w('d attention out, q rotated, q', [N, Q], 3);
    w('d k rotated, k, v', [N, KVW], 3);
    act('projection out', NC);
    act('x1, h mid, x2', NC, 3 * sets);
    act('rrms 1 and 2', [N], 2 * sets);
    act('q, q rotated, attention', [N, Q], 3 * sets);
    act('k, v, k rotated', [N, KVW], 3 * sets);
    act('gate, up, act', [N, c.F], 3 * sets);
    act('final norm out', NC);
    act('rrms final', [N]);
    w('d xf', NC);
    if (c.qkNorm) {
      w('q normed', [N, Q]);
      w('k normed', [N, KVW]);
      act('q rrms', [N * c.NH], sets);
      act('k rrms', [N * c.KV], sets);
    }
    if (c.gemma) {
      // Each sublayer's output before its post-norm, and that norm's statistic.
      act('attention out, mlp out', NC, 2 * sets);
      act('attention out and mlp out rrms', [N], 2 * sets);
      w('d sublayer out before its norm', NC);
    }
  }
  w('attention row stats', [B, c.NH, T, 2]);
  act('attention lse', [B, c.NH, T], sets);
  if (prefixed) {
    act('k, v with prefix', [B, S, kvHeads, c.D], 2 * sets);
    if (backward) w('d k, v with prefix', [B, S, kvHeads, c.D], 2);
  }
  // The residual stream h1..hL, always kept.
  act('residual stream', NC, c.L);
  if (m.method === 'adapter') {
    const positions = m.positions ?? ['attention', 'ffn'];
    act('sublayer outputs before the adapters', NC, c.L * positions.length);
  }
  if (backward && normsTrain(m)) {
    // One rmsnorm backward per norm (2 per layer, Gemma's 4, + final); layernorm keeps two partial sums
    // (γ and β). Frozen norms (every other method) run the dx pass alone, with no partials.
    const perNorm = c.norm === 'layer' ? 2 : 1;
    w('norm dweight partials', [normPartialRows(N, c.C), c.C], perNorm * (sublayerNorms(c) * c.L + 1));
    if (c.qkNorm) {
      w('q norm dweight partials', [normPartialRows(N * c.NH, c.D), c.D], c.L);
      w('k norm dweight partials', [normPartialRows(N * c.KV, c.D), c.D], c.L);
    }
  }
  if (splitKWorkspaceUsed(m, N, backward)) w('split-K partials (shared)', [splitKWorkspaceBytes / 4]);
  const R = Math.min(N, shape.lmHeadChunkRows ?? lmHeadChunkRows(N, c.V));
  ledger.tensor(
    'logits',
    R < N ? 'logits of one LM head chunk (dlogits in place)' : 'logits (dlogits in place)',
    [R, c.V],
  );
  if (R < N) {
    ledger.tensor('logits', 'LM head chunk input', [R, c.C]);
    if (backward) ledger.tensor('logits', 'LM head chunk input gradient', [R, c.C]);
  }
  ledger.tensor('logits', 'loss per token', [N]);
}

/**
 * Dispatches in one planned step, each owning one small uniform buffer (16–64 bytes): a count close
 * enough for the uniforms' bytes, which only matter for the tiniest models.
 */
export function stepDispatches(
  c: DecoderConfig,
  m: MethodSettings,
  backward: boolean,
  checkpointing: boolean,
  headChunks = 1,
): number {
  // A chunked LM head runs, per chunk, copy in, head, loss (and backward: dx, dW, copy out), where one
  // chunk runs head, loss (dx, dW): (k − 1) more of each, and the first chunk's copies.
  const chunking = headChunks > 1 ? (headChunks - 1) * (backward ? 6 : 3) + (backward ? 2 : 1) : 0;
  // Per-head q and k norms (Qwen3, Gemma 3) and Gemma's post-norms: one forward each, and a backward
  // row pass and fold each.
  const extraNorms = (c.qkNorm ? 2 : 0) + sublayerNorms(c) - 2;
  const perLayerForward = (c.family === 'gpt2' ? 14 : 16) + extraNorms;
  const perLayerBackward = (c.family === 'gpt2' ? 24 : 27) + 2 * extraNorms;
  const adapted = m.method === 'adapter' ? 4 * (m.positions ?? ['attention', 'ffn']).length : 0;
  const forward = c.L * (perLayerForward + adapted) + 6 + (backward ? 0 : chunking);
  if (!backward) return forward;
  const again = checkpointing ? c.L * (perLayerForward + adapted) : 0;
  // The counts above include each norm's sum-rows folds (rmsnorm 1, layernorm 2), which frozen norms skip.
  const frozenFolds = normsTrain(m) ? 0 : c.norm === 'layer' ? 2 : 1;
  const normsPerLayer = 2 + extraNorms;
  return (
    forward +
    again +
    c.L * (perLayerBackward - normsPerLayer * frozenFolds + 2 * adapted) +
    8 -
    frozenFolds +
    chunking
  );
}

/** Norms over the width in each layer: 2, or Gemma's 4 (its sublayer outputs are normed too). */
function sublayerNorms(c: DecoderConfig): number {
  return c.gemma ? 4 : 2;
}

/** How many LM head chunks a step of N rows runs (lm-head-chunks.ts). */
export function lmHeadChunks(c: DecoderConfig, N: number, chunkRows?: number): number {
  return Math.ceil(N / Math.min(N, chunkRows ?? lmHeadChunkRows(N, c.V)));
}
