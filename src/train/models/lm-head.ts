/**
 * A decoder step's LM head and loss: logits = xf·Wᵀ, the fused cross-entropy writing each row's loss and
 * its gradient over the logits, then the head's backward (d xf, and dW when the head trains). With more
 * rows than one chunk holds (lm-head-chunks.ts) it runs chunk by chunk over one chunk-sized logits
 * buffer: a chunk's rows of xf are copied in, and their gradient copied back out, by the block copy.
 * A step that keeps its logits runs the head alone, over every row or each sequence's last.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { columnCopy } from '../../gpu/kernels/column-copy/column-copy';
import { crossEntropy } from '../../gpu/kernels/cross-entropy/cross-entropy';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, leadingRowsView, reshapeTensor, type Tensor } from '../../gpu/tensor';
import { type Linear, linearBackward, linearForward } from './layers/linear';

export interface LmHeadIo {
  head: Linear;
  /** [N, C]: the final normed hidden state. */
  xf: Tensor;
  /** [N]: labels, and the loss of each row. */
  labels: Tensor;
  lossRows: Tensor;
  /** Gemma 2's final_logit_softcapping. */
  softcap?: number;
  /** The backward: d xf [N, C], and the head's weight gradient when it trains. */
  backward?: { dxf: Tensor; headGrad?: Tensor };
  /** Rows per chunk (lm-head-chunks.ts); N or more runs the whole batch at once. */
  chunkRows: number;
}

export interface LmHeadPlan {
  dispatches: Dispatch[];
  /** Each chunk's cross-entropy, whose gradient scale is set for every batch. */
  crossEntropy: Dispatch[];
}

export async function lmHeadAndLoss(runtime: Runtime, io: LmHeadIo): Promise<LmHeadPlan> {
  const [N, C] = io.xf.shape as [number, number];
  const V = io.head.weight.shape[0] as number;
  const R = Math.min(io.chunkRows, N);
  const chunked = R < N;
  const a = runtime.arena;
  const logits = createTensor(a, chunked ? 'logits chunk' : 'logits', [R, V]);
  const xChunk = chunked ? createTensor(a, 'lm head input chunk', [R, C]) : io.xf;
  const dxChunk =
    chunked && io.backward ? createTensor(a, 'lm head d input chunk', [R, C]) : io.backward?.dxf;
  const dispatches: Dispatch[] = [];
  const crossEntropyDispatches: Dispatch[] = [];
  const whole = { srcOffset: 0, dstOffset: 0, width: C };
  for (let start = 0; start < N; start += R) {
    const count = Math.min(R, N - start);
    const rows = (t: Tensor) => (count === t.shape[0] ? t : leadingRowsView(t, count));
    const [x, l] = [rows(xChunk), rows(logits)];
    if (chunked)
      dispatches.push(
        await columnCopy(runtime, { src: io.xf, dst: xChunk, ...whole, rows: { src: start, dst: 0, count } }),
      );
    dispatches.push(await linearForward(runtime, io.head, x, l));
    const ce = await crossEntropy(runtime, {
      logits: l,
      labels: io.labels,
      loss: io.lossRows,
      dlogits: l,
      scale: 0,
      softcap: io.softcap,
      ...(chunked ? { rows: { start, count } } : {}),
    });
    dispatches.push(ce);
    crossEntropyDispatches.push(ce);
    if (!io.backward || !dxChunk) continue;
    const grads = io.backward.headGrad ? { weight: io.backward.headGrad } : {};
    // The first chunk writes the head's gradient; the others add to it.
    dispatches.push(
      ...(await linearBackward(runtime, io.head, grads, {
        x,
        dy: l,
        dx: rows(dxChunk),
        accumulateGrads: start > 0,
      })),
    );
    if (chunked)
      dispatches.push(
        await columnCopy(runtime, {
          src: dxChunk,
          dst: io.backward.dxf,
          ...whole,
          rows: { src: 0, dst: start, count },
        }),
      );
  }
  return { dispatches, crossEntropy: crossEntropyDispatches };
}

/**
 * The head's forward for a step that keeps its logits: over every row, or (rowsPerSequence T > 0) over
 * each sequence's last row, copied out of xf first: viewed as [B, T·C], those rows are its last C columns,
 * one block copy.
 */
export async function keptLogits(
  runtime: Runtime,
  head: Linear,
  xf: Tensor,
  logits: Tensor,
  rowsPerSequence: number,
): Promise<Dispatch[]> {
  if (rowsPerSequence === 0) return [await linearForward(runtime, head, xf, logits)];
  const [B, C] = [logits.shape[0] as number, xf.shape[1] as number];
  const last = createTensor(runtime.arena, 'last rows of xf', [B, C]);
  const copy = await columnCopy(runtime, {
    src: reshapeTensor(xf, [B, rowsPerSequence * C]),
    dst: last,
    srcOffset: (rowsPerSequence - 1) * C,
    dstOffset: 0,
    width: C,
  });
  return [copy, await linearForward(runtime, head, last, logits)];
}
