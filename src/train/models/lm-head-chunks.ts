/**
 * How many rows the LM head and the loss take at once. A step's logits are [N, V], and with today's
 * vocabularies (Llama 3's 128,256, Qwen's 151,936, Gemma's 262,144) they outgrow the rest of the step:
 * Gemma 3 270M's 1,024-token step holds 1 GiB of them. Past a budget the head runs chunk by chunk: each
 * chunk's rows of the final hidden state are copied in, projected, scored by the fused cross-entropy
 * (which leaves its gradient in place), and sent back through the head, the input gradient copied out and
 * the weight gradient accumulated, so only one chunk's logits exist at a time. The memory planner counts
 * the same rows (plan/step-tensors.ts).
 */

/**
 * The logits one chunk may hold: 128 MiB, the per-buffer size every WebGPU device allows
 * (maxStorageBufferBindingSize's default), so the logits are never what keeps a run off a device.
 */
export const lmHeadChunkBytes = 128 * 2 ** 20;

/** Rows per chunk for N rows over a vocabulary of V: all N while their logits fit the budget. */
export function lmHeadChunkRows(N: number, V: number, chunkBytes = lmHeadChunkBytes): number {
  return Math.max(1, Math.min(N, Math.floor(chunkBytes / (4 * V))));
}
