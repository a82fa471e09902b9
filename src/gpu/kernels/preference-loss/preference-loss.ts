/**
 * Launcher for DPO's loss and sequence weights (preference-loss.wgsl: TRL's loss types sigmoid, hinge
 * and ipo), between the LM head's loss pass and its gradient pass. Rows [0, B) of the batch are the chosen sequences and rows [B, 2B) the rejected
 * ones, each T tokens; `weight` holds each pair's share of the step's mean (0 for padding pairs).
 *
 * Shapes: loss, labels [2B·T]   reference [2B]   weight [B]   →   logp [2B]   pairLoss [B]   rowScales [2B]
 * Cost: 2B·T adds and a few transcendentals per pair; fewest bytes 4·(2B·T + 9B), as it moves.
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { describeShape, type Tensor } from '../../tensor';
import preferenceLossWgsl from './preference-loss.wgsl?raw';

const preferenceLossKernel: KernelDefinition = {
  name: 'preference-loss',
  wgsl: preferenceLossWgsl,
  bindings: ['uniform', 'read', 'read', 'read', 'write', 'write', 'write', 'read'],
};

/** TRL's DPO loss_type values this kernel computes. */
export const preferenceLossTypes = ['sigmoid', 'hinge', 'ipo'] as const;
export type PreferenceLossType = (typeof preferenceLossTypes)[number];

export interface PreferenceLossArgs {
  /** [2B·T]: each token's cross-entropy, 0 where it is not a label. */
  loss: Tensor;
  /** [2B·T] i32: the step's labels (-100 where none); IPO divides by each sequence's count. */
  labels: Tensor;
  /** [2B]: the reference model's log-probability of each sequence. */
  reference: Tensor;
  /** [B]: each pair's weight in the step's loss. */
  weight: Tensor;
  logp: Tensor;
  pairLoss: Tensor;
  rowScales: Tensor;
  /** DPO's β, the strength of the pull towards the reference. */
  beta: number;
  /** Absent: 'sigmoid', DPO's own. */
  lossType?: PreferenceLossType;
  label?: string;
}

export async function preferenceLoss(runtime: Runtime, args: PreferenceLossArgs): Promise<Dispatch> {
  const B = args.weight.size;
  const fail = (detail: string) =>
    new Error(
      `preference-loss: ${detail} (loss ${describeShape(args.loss)}, weight ${describeShape(args.weight)}).`,
    );
  if (B === 0 || args.loss.size % (2 * B) !== 0)
    throw fail(`the loss must hold 2·${B} sequences of equal length`);
  const T = args.loss.size / (2 * B);
  for (const [name, tensor, size] of [
    ['reference', args.reference, 2 * B],
    ['logp', args.logp, 2 * B],
    ['pairLoss', args.pairLoss, B],
    ['rowScales', args.rowScales, 2 * B],
  ] as const) {
    if (tensor.size !== size) throw fail(`${name} ${describeShape(tensor)} must have ${size} elements`);
  }
  if (!(args.beta > 0 && Number.isFinite(args.beta))) throw fail(`β ${args.beta} must be a positive number`);
  if (args.labels.size !== args.loss.size || args.labels.dtype !== 'i32')
    throw fail(`labels ${describeShape(args.labels)} must be i32, one per loss`);
  const lossType = args.lossType ?? 'sigmoid';
  const params = new ArrayBuffer(16);
  new Uint32Array(params, 0, 2).set([B, T]);
  new Float32Array(params, 8, 1).set([args.beta]);
  const uniform = createUniform(runtime, 'uniforms', params);
  return makeDispatch(runtime, {
    kernel: preferenceLossKernel,
    constants: { LOSS: preferenceLossTypes.indexOf(lossType) },
    buffers: [
      uniform,
      args.loss.buffer,
      args.reference.buffer,
      args.weight.buffer,
      args.logp.buffer,
      args.pairLoss.buffer,
      args.rowScales.buffer,
      args.labels.buffer,
    ],
    workgroups: grid1d(runtime, B, 1),
    label: args.label ?? 'preference loss',
    owned: [uniform],
  });
}
