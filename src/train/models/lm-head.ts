/**
 * A decoder step's LM head and loss: logits = xf·Wᵀ, the fused cross-entropy writing each row's loss and
 * its gradient over the logits, then the head's backward (d xf, and dW when the head trains). With more
 * rows than one chunk holds (lm-head-chunks.ts) it runs chunk by chunk over one chunk-sized logits
 * buffer: a chunk's rows of xf are copied in, and their gradient copied back out, by the block copy.
 * A step that keeps its logits runs the head alone, over every row or each sequence's last.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { columnCopy } from '../../gpu/kernels/column-copy/column-copy';
import { type CrossEntropyArgs, crossEntropy } from '../../gpu/kernels/cross-entropy/cross-entropy';
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
  /**
   * A sequence objective (DPO): every row's loss first, then `between` (which reads the losses and
   * writes `rowScales`, one weight per `rowsPerScale` rows), then the gradient, each row's times its
   * sequence's weight. Chunked, the head's forward runs twice; whole, the logits are kept between.
   */
  sequenceWeights?: { between: Dispatch[]; rowScales: Tensor; rowsPerScale: number };
}

export interface LmHeadPlan {
  dispatches: Dispatch[];
  /** Each chunk's gradient-writing cross-entropy, whose gradient scale is set for every batch. */
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
  const whole = { srcOffset: 0, dstOffset: 0, width: C };
  const chunks = Array.from({ length: Math.ceil(N / R) }, (_, i) => ({
    start: i * R,
    count: Math.min(R, N - i * R),
  }));
  const rows = (t: Tensor, count: number) => (count === t.shape[0] ? t : leadingRowsView(t, count));

  const headForward = async (start: number, count: number): Promise<Dispatch[]> => [
    ...(chunked
      ? [
          await columnCopy(runtime, {
            src: io.xf,
            dst: xChunk,
            ...whole,
            rows: { src: start, dst: 0, count },
          }),
        ]
      : []),
    await linearForward(runtime, io.head, rows(xChunk, count), rows(logits, count)),
  ];
  const loss = (start: number, count: number, options: Partial<CrossEntropyArgs>) => {
    // One view for both: the gradient goes in place only when dlogits is the logits tensor itself.
    const chunkLogits = rows(logits, count);
    return crossEntropy(runtime, {
      logits: chunkLogits,
      labels: io.labels,
      loss: io.lossRows,
      dlogits: chunkLogits,
      scale: 0,
      softcap: io.softcap,
      ...(chunked ? { rows: { start, count } } : {}),
      ...options,
    });
  };
  const headBackward = async (start: number, count: number): Promise<Dispatch[]> => {
    if (!io.backward || !dxChunk) return [];
    const grads = io.backward.headGrad ? { weight: io.backward.headGrad } : {};
    // The first chunk writes the head's gradient; the others add to it.
    const backward = await linearBackward(runtime, io.head, grads, {
      x: rows(xChunk, count),
      dy: rows(logits, count),
      dx: rows(dxChunk, count),
      accumulateGrads: start > 0,
    });
    if (!chunked) return backward;
    const copyBack = await columnCopy(runtime, {
      src: dxChunk,
      dst: io.backward.dxf,
      ...whole,
      rows: { src: 0, dst: start, count },
    });
    return [...backward, copyBack];
  };

  const dispatches: Dispatch[] = [];
  const crossEntropyDispatches: Dispatch[] = [];
  const weights = io.sequenceWeights;
  if (!weights) {
    for (const { start, count } of chunks) {
      const ce = await loss(start, count, {});
      dispatches.push(...(await headForward(start, count)), ce, ...(await headBackward(start, count)));
      crossEntropyDispatches.push(ce);
    }
    return { dispatches, crossEntropy: crossEntropyDispatches };
  }
  for (const { start, count } of chunks)
    dispatches.push(...(await headForward(start, count)), await loss(start, count, { gradient: false }));
  dispatches.push(...weights.between);
  if (!io.backward) return { dispatches, crossEntropy: crossEntropyDispatches };
  const rowScales = { tensor: weights.rowScales, rowsPerScale: weights.rowsPerScale };
  for (const { start, count } of chunks) {
    const ce = await loss(start, count, { rowScales });
    // Whole, the logits are still there from the loss pass; a chunk's were overwritten by the next.
    dispatches.push(...(chunked ? await headForward(start, count) : []), ce);
    dispatches.push(...(await headBackward(start, count)));
    crossEntropyDispatches.push(ce);
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
