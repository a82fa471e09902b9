/**
 * Launcher for the plain SGD step of one tensor (sgd.wgsl): torch.optim.SGD with momentum 0, dampening 0,
 * nesterov off; weight decay coupled as torch couples it (d = g + wd·p); the gradient scaled first by the
 * clip coefficient in clipState[1] (see grad-norm). Momentum is not supported: it would need a state
 * buffer per tensor, and nothing here asks for it yet; `momentum` other than 0 throws.
 * lr comes from the shared `OptimizerStepUniform`, rewritten once per step.
 * Shapes: param and grad of one size N (any shape); clipState [4]. Updates param in place.
 * Cost: 4·N FLOPs; fewest bytes 12·N (read p, g; write p).
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import { checkedLrScale, checkOptimizerTensors } from '../adamw/adamw';
import type { OptimizerStepUniform } from '../adamw/step-uniform';
import sgdWgsl from './sgd.wgsl?raw';

const sgdKernel: KernelDefinition = {
  name: 'sgd',
  wgsl: sgdWgsl,
  bindings: ['uniform', 'uniform', 'read', 'read', 'write'],
};

const workgroupSize = 256;

export interface SgdArgs {
  param: Tensor;
  grad: Tensor;
  clipState: Tensor;
  step: OptimizerStepUniform;
  /** Coupled: the gradient becomes g + weightDecay·p. */
  weightDecay: number;
  /** This tensor's lr ÷ the step's (a parameter group's own rate: LoRA+'s B); 1 when absent. */
  lrScale?: number;
  /** Only 0 is supported (plain SGD). */
  momentum?: number;
  label?: string;
}

export async function sgd(runtime: Runtime, args: SgdArgs): Promise<Dispatch> {
  const { param, grad } = args;
  const label = args.label ?? `sgd ${param.label}`;
  checkOptimizerTensors(label, [param, grad], args.clipState);
  if ((args.momentum ?? 0) !== 0) {
    throw new Error(`${label}: momentum ${args.momentum} is not supported; plain SGD needs momentum 0.`);
  }
  if (!(Number.isFinite(args.weightDecay) && args.weightDecay >= 0)) {
    throw new Error(`${label}: weightDecay must be ≥ 0, got ${args.weightDecay}.`);
  }
  const vecCount = Math.ceil(param.size / 4);
  const params = new ArrayBuffer(16);
  new Uint32Array(params, 0, 2).set([param.size, vecCount]);
  new Float32Array(params, 8, 2).set([args.weightDecay, checkedLrScale(label, args.lrScale)]);
  const uniform = createUniform(runtime, 'uniforms', params);
  return makeDispatch(runtime, {
    kernel: sgdKernel,
    buffers: [args.step.buffer, uniform, args.clipState.buffer, grad.buffer, param.buffer],
    workgroups: grid1d(runtime, vecCount, workgroupSize),
    label,
    owned: [uniform],
  });
}
