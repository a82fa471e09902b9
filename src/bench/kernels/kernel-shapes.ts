/**
 * What the kernel microbenchmarks measure: matmul shapes (square, the LoRA step's shapes at SmolLM2-135M's
 * width, and the base projection they sit beside) and attention-forward shapes, each at full size for a
 * real GPU and scaled down for a software adapter (SwiftShader runs ~1 GFLOP/s on the CPU, so full
 * sizes would take minutes and say nothing about GPUs).
 */

export interface MatmulShape {
  name: string;
  /** out [M, N] = A [M, K] · B, B stored [N, K] when transB (as nn.Linear weights are). */
  M: number;
  N: number;
  K: number;
  transB: boolean;
  /** Rank of a fused low-rank term (LoRA's x·Aᵀ·Bᵀ added in the same kernel), 0 for none. */
  R: number;
  /** B stored in half precision, as a 16-bit checkpoint's frozen weight is (not a source of the fp32 ceiling). */
  halfB?: boolean;
  /** B quantized to NF4, as QLoRA's frozen base is (not a source of the fp32 ceiling either). */
  nf4B?: boolean;
  /** A stored [K, M], as a weight gradient's dYᵀ is (K = the step's tokens). */
  transA?: boolean;
  /** Run through matmulSplitK, which splits a long K over more workgroups (split-k.ts). */
  splitK?: boolean;
}

export interface AttentionBenchShape {
  name: string;
  B: number;
  T: number;
  NH: number;
  KVH: number;
  D: number;
  /** A sliding window of this many keys (each query sees itself and the window − 1 before it). */
  window?: number;
}

/** FLOPs of one matmul: 2·M·N·(K + R) (the fused low-rank term adds R per output). */
export const matmulFlops = (s: MatmulShape) => 2 * s.M * s.N * (s.K + s.R);

/**
 * Useful FLOPs of one causal attention forward: 4·D per visible (query, key) pair (q·k and p·v): T·(T+1)/2
 * pairs per head, or with a window W, Σ_t min(t + 1, W). Masked-out pairs are not counted, so skipping
 * them is not "speed".
 */
export const attentionFlops = (s: AttentionBenchShape) => 4 * s.D * s.B * s.NH * visiblePairs(s.T, s.window);

function visiblePairs(T: number, window = T): number {
  const W = Math.min(window, T);
  // Queries 0..W−1 see t + 1 keys; the rest see W.
  return (W * (W + 1)) / 2 + (T - W) * W;
}

/** A weight gradient out [M, N] = Aᵀ·B over K tokens (A stored [K, M]): once in one pass, once split along K. */
function weightGradient(what: string, M: number, N: number, K: number): MatmulShape[] {
  const shape = { M, N, K, transA: true, transB: false, R: 0 };
  return [
    { name: `${what} ${M}×${N}, K ${K}, one pass`, ...shape },
    { name: `${what} ${M}×${N}, K ${K}, split K`, ...shape, splitK: true },
  ];
}

/** SmolLM2-135M: width 576, 1024 rows per step (batch 4 × 256 tokens), LoRA r = 8. */
const fullMatmuls: MatmulShape[] = [
  { name: 'square 512', M: 512, N: 512, K: 512, transB: false, R: 0 },
  { name: 'square 1024', M: 1024, N: 1024, K: 1024, transB: false, R: 0 },
  { name: 'square 2048', M: 2048, N: 2048, K: 2048, transB: false, R: 0 },
  { name: 'q_proj x·Wᵀ 1024×576×576', M: 1024, N: 576, K: 576, transB: true, R: 0 },
  { name: 'q_proj x·Wᵀ 1024×576×576, W f16', M: 1024, N: 576, K: 576, transB: true, R: 0, halfB: true },
  { name: 'q_proj x·Wᵀ 1024×576×576, W nf4', M: 1024, N: 576, K: 576, transB: true, R: 0, nf4B: true },
  // A QLoRA step's dX reads the NF4 base along its other dimension.
  { name: 'down_proj dY·W 1024×576×1536, W nf4', M: 1024, N: 1536, K: 576, transB: false, R: 0, nf4B: true },
  { name: 'LoRA down x·Aᵀ 1024×8×576', M: 1024, N: 8, K: 576, transB: true, R: 0 },
  { name: 'LoRA fused x·Wᵀ + u·Bᵀ r8', M: 1024, N: 576, K: 576, transB: true, R: 8 },
  { name: 'MLP up x·Wᵀ 1024×1536×576', M: 1024, N: 1536, K: 576, transB: true, R: 0 },
  // Weight gradients over 4096 tokens (batch 8 × 512).
  ...weightGradient('LoRA dA duᵀ·x', 8, 576, 4096),
  ...weightGradient('k_proj dW dYᵀ·x', 192, 576, 4096),
];

const scaledMatmuls: MatmulShape[] = [
  { name: 'square 128', M: 128, N: 128, K: 128, transB: false, R: 0 },
  { name: 'square 256', M: 256, N: 256, K: 256, transB: false, R: 0 },
  { name: 'q_proj x·Wᵀ 128×192×192', M: 128, N: 192, K: 192, transB: true, R: 0 },
  { name: 'q_proj x·Wᵀ 128×192×192, W f16', M: 128, N: 192, K: 192, transB: true, R: 0, halfB: true },
  { name: 'q_proj x·Wᵀ 128×192×192, W nf4', M: 128, N: 192, K: 192, transB: true, R: 0, nf4B: true },
  { name: 'LoRA down x·Aᵀ 128×8×192', M: 128, N: 8, K: 192, transB: true, R: 0 },
  { name: 'LoRA fused x·Wᵀ + u·Bᵀ r8', M: 128, N: 192, K: 192, transB: true, R: 8 },
  ...weightGradient('LoRA dA duᵀ·x', 8, 192, 1024),
];

const fullAttention: AttentionBenchShape[] = [
  { name: 'SmolLM2 4×256, 9/3 heads, D 64', B: 4, T: 256, NH: 9, KVH: 3, D: 64 },
  { name: '1×1024, 8/8 heads, D 64', B: 1, T: 1024, NH: 8, KVH: 8, D: 64 },
  // Gemma 3 270M: head dim 256 (the half-height tiles), a full layer and a sliding one past its window.
  { name: 'Gemma 3 270M 4×512, 4/1 heads, D 256', B: 4, T: 512, NH: 4, KVH: 1, D: 256 },
  {
    name: 'Gemma 3 270M 1×2048, 4/1 heads, D 256, window 512',
    B: 1,
    T: 2048,
    NH: 4,
    KVH: 1,
    D: 256,
    window: 512,
  },
];

const scaledAttention: AttentionBenchShape[] = [
  { name: '1×128, 4/2 heads, D 32', B: 1, T: 128, NH: 4, KVH: 2, D: 32 },
  { name: '1×256, 2/1 heads, D 32, window 64', B: 1, T: 256, NH: 2, KVH: 1, D: 32, window: 64 },
];

export function kernelShapes(scaled: boolean) {
  return scaled
    ? { matmul: scaledMatmuls, attention: scaledAttention }
    : { matmul: fullMatmuls, attention: fullAttention };
}
