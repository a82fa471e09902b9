/**
 * Launcher for the fused softmax cross-entropy (cross-entropy.wgsl): the causal-LM loss as PyTorch and
 * Hugging Face compute it, mean over non-ignored rows of logsumexp(logits[n]) − logits[n, label[n]],
 * returned as a per-row loss with its gradient in the same dispatch.
 *
 * Shapes (N batch rows, i.e. B·T; V vocabulary; R the rows of one call):
 *   logits [N or R, V] f32   labels [N] i32 (-100 = ignored)   loss [N]   dlogits: the shape of logits
 * Contract: loss[n] is unscaled (0 for ignored rows), so the mean loss is scale · Σ loss; dlogits is
 * (softmax − onehot) · scale. Pass the logits tensor itself as dlogits to write the gradient over the
 * logits (in place is supported and tested). `rows` restricts the call to batch rows [start,
 * start + count): logits then holds either the whole batch or just those rows, so the LM head and the
 * loss can run chunk by chunk without the full [N, V] logits. `crossEntropyScale` gives the usual
 * 1 / (non-ignored labels), 0 when every label is ignored; pass another scale for gradient accumulation.
 * `softcap` (Gemma 2's final_logit_softcapping) reads each logit x as cap·tanh(x / cap), as
 * transformers caps the logits before the loss, and multiplies its gradient by the slope 1 − tanh².
 * `gradient: false` writes the loss alone; `rowScales` multiplies each row's gradient by its sequence's
 * weight too. A sequence objective (DPO) runs the two in turn, its weights computed between them.
 * Cost: ~8·R·V FLOPs (two exps per element); fewest bytes 4·(2·R·V + 2·R), this kernel moves
 * 4·(3·R·V + 2·R) (the row is read twice; the second read mostly hits cache on a real GPU).
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { describeShape, type Tensor } from '../../tensor';
import { rowLanes, rowWorkgroupSize } from '../rmsnorm/row-segments';
import crossEntropyWgsl from './cross-entropy.wgsl?raw';
import softcapWgsl from './softcap.wgsl?raw';

const crossEntropyKernel: KernelDefinition = {
  name: 'cross-entropy',
  wgsl: `${softcapWgsl}\n${crossEntropyWgsl}`,
  bindings: ['uniform', 'write', 'read', 'write', 'write', 'read'],
};

/** The label that marks a row without a target (PyTorch's default ignore_index). */
export const ignoreIndex = -100;

/** 1 / (labels that are not ignored), or 0 when all are; throws on a label outside [0, V) ∪ {-100}. */
export function crossEntropyScale(labels: ArrayLike<number>, vocab: number): number {
  let counted = 0;
  for (let n = 0; n < labels.length; n++) {
    const label = labels[n] as number;
    if (label === ignoreIndex) continue;
    if (!(Number.isInteger(label) && label >= 0 && label < vocab)) {
      throw new Error(
        `cross-entropy: row ${n} has label ${label}, outside [0, ${vocab}) and not ${ignoreIndex}.`,
      );
    }
    counted++;
  }
  return counted === 0 ? 0 : 1 / counted;
}

export interface CrossEntropyArgs {
  logits: Tensor;
  labels: Tensor;
  loss: Tensor;
  /** The gradient; the logits tensor itself to write it in place. */
  dlogits: Tensor;
  /** Multiplies the gradient: usually `crossEntropyScale(labels)`. */
  scale: number;
  /** Soft-caps the logits first: cap·tanh(logit / cap) (Gemma 2). */
  softcap?: number;
  /** Batch rows [start, start + count) to process; all N rows by default. */
  rows?: { start: number; count: number };
  /** false: write the loss alone and leave the logits (and dlogits) as they are. Default true. */
  gradient?: boolean;
  /**
   * Per-sequence gradient weights: batch row n's gradient is also multiplied by
   * `tensor[floor(n / rowsPerScale)]` (DPO's weight of each sequence, written on the GPU).
   */
  rowScales?: { tensor: Tensor; rowsPerScale: number };
  label?: string;
}

function fail(args: CrossEntropyArgs, detail: string): Error {
  return new Error(
    `cross-entropy ${args.label ?? ''}: ${detail} (logits ${describeShape(args.logits)}, ` +
      `labels ${describeShape(args.labels)}, loss ${describeShape(args.loss)}).`,
  );
}

export async function crossEntropy(runtime: Runtime, args: CrossEntropyArgs): Promise<Dispatch> {
  const { logits, labels, loss, dlogits } = args;
  const V = logits.shape.at(-1) ?? 0;
  if (logits.shape.length < 2 || V === 0) throw fail(args, 'logits must be [rows, V] with V > 0');
  const logitsRows = logits.size / V;
  const N = labels.size;
  if (labels.dtype !== 'i32') throw fail(args, `labels must be i32, not ${labels.dtype}`);
  if (loss.size !== N) throw fail(args, `loss must have one value per label, ${N}`);
  const { start, count } = args.rows ?? { start: 0, count: N };
  if (
    !(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= N)
  ) {
    throw fail(args, `rows [${start}, ${start + count}) must lie within the ${N} labels`);
  }
  // Logits of the whole batch are addressed by batch row; a chunk of logits by row within the chunk.
  let logitsRowOffset: number;
  if (logitsRows === N) logitsRowOffset = start;
  else if (logitsRows === count) logitsRowOffset = 0;
  else throw fail(args, `logits must have ${N} rows (the batch) or ${count} (the chunk), not ${logitsRows}`);
  const inPlace = dlogits === logits;
  if (!inPlace && (dlogits.size !== logits.size || dlogits.shape.at(-1) !== V)) {
    throw fail(args, `dlogits ${describeShape(dlogits)} must have the shape of logits`);
  }
  if (!Number.isFinite(args.scale)) throw fail(args, `scale ${args.scale} must be finite`);
  const softcap = args.softcap;
  if (softcap !== undefined && !(softcap > 0 && Number.isFinite(softcap)))
    throw fail(args, `softcap ${softcap} must be a positive number`);

  const rowScales = args.rowScales;
  if (rowScales) {
    const per = rowScales.rowsPerScale;
    if (!(Number.isInteger(per) && per > 0 && rowScales.tensor.size * per === N))
      throw fail(
        args,
        `row scales ${describeShape(rowScales.tensor)} at ${per} rows each must cover the ${N} labels`,
      );
  }
  const gradient = args.gradient ?? true;

  const params = new ArrayBuffer(32);
  new Uint32Array(params, 0, 4).set([V, count, start, logitsRowOffset]);
  new Float32Array(params, scaleByteOffset, 2).set([args.scale, softcap ?? 0]);
  new Uint32Array(params, 24, 1).set([rowScales?.rowsPerScale ?? 1]);
  const uniform = createUniform(runtime, 'uniforms', params);
  // Lanes per row as the norms choose them: a warp for a small vocabulary, the workgroup for a real one.
  const lanes = rowLanes(V);
  return makeDispatch(runtime, {
    kernel: crossEntropyKernel,
    constants: {
      IN_PLACE: inPlace,
      LANES: lanes,
      SOFTCAP: softcap !== undefined,
      GRADIENT: gradient,
      ROW_SCALES: rowScales !== undefined,
    },
    buffers: [
      uniform,
      logits.buffer,
      labels.buffer,
      loss.buffer,
      inPlace || !gradient ? runtime.placeholder.storage : dlogits.buffer,
      rowScales?.tensor.buffer ?? runtime.placeholder.secondStorage,
    ],
    workgroups: grid1d(runtime, count, rowWorkgroupSize / lanes),
    label: args.label ?? `cross-entropy ${logits.label}`,
    owned: [uniform],
  });
}

const scaleByteOffset = 16;

/**
 * Rewrites the gradient scale of a planned cross-entropy dispatch: a recorded step replays with a new
 * batch, whose count of labels (and so 1/count) differs, without re-planning.
 */
export function setCrossEntropyScale(runtime: Runtime, dispatch: Dispatch, scale: number): void {
  const uniform = dispatch.owned[0];
  if (!uniform || !Number.isFinite(scale))
    throw new Error(`setCrossEntropyScale: bad dispatch or scale ${scale}.`);
  runtime.device.queue.writeBuffer(uniform, scaleByteOffset, new Float32Array([scale]));
}
