/**
 * Launcher for the fused AdamW step of one tensor (adamw.wgsl), torch.optim.AdamW semantics
 * (decoupled weight decay, bias-corrected moments), with the gradient scaled by the clip coefficient
 * in clipState[1] (see grad-norm). One dispatch per tensor; the per-step lr and bias corrections come
 * from the shared `OptimizerStepUniform`, whose betas this dispatch uses too, so the two cannot disagree.
 * Shapes: param, grad, expAvg, expAvgSq all of one size N (any shape); clipState [4].
 * Contract: updates param, expAvg, expAvgSq in place; reads grad and clipState only.
 * Cost: ~14·N FLOPs (one sqrt and one divide per element); fewest bytes 28·N (read p, g, m, v;
 * write p, m, v).
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { describeShape, type Tensor } from '../../tensor';
import adamwWgsl from './adamw.wgsl?raw';
import type { OptimizerStepUniform } from './step-uniform';

const adamwKernel: KernelDefinition = {
  name: 'adamw',
  wgsl: adamwWgsl,
  bindings: ['uniform', 'uniform', 'read', 'read', 'write', 'write', 'write'],
};

const workgroupSize = 256;

export interface AdamwArgs {
  param: Tensor;
  grad: Tensor;
  /** m, torch's exp_avg. */
  expAvg: Tensor;
  /** v, torch's exp_avg_sq. */
  expAvgSq: Tensor;
  clipState: Tensor;
  step: OptimizerStepUniform;
  eps: number;
  /** Decoupled: p ← p·(1 − lr·weightDecay). The trainer passes 0 for tensors of fewer than 2 dims. */
  weightDecay: number;
  /** This tensor's lr ÷ the step's (a parameter group's own rate: LoRA+'s B); 1 when absent. */
  lrScale?: number;
  label?: string;
}

/** A tensor's own rate multiplier, checked: finite and above 0. */
export function checkedLrScale(label: string, lrScale = 1): number {
  if (!(Number.isFinite(lrScale) && lrScale > 0))
    throw new Error(`${label}: lrScale must be above 0, got ${lrScale}.`);
  return lrScale;
}

/** Checks what the SGD and AdamW launchers share: f32 tensors of one size, a [4] clip state. */
export function checkOptimizerTensors(op: string, sized: readonly Tensor[], clipState: Tensor): void {
  const [first] = sized;
  for (const t of sized) {
    if (t.dtype !== 'f32') throw new Error(`${op}: ${describeShape(t)} is ${t.dtype}, not f32.`);
    if (first && t.size !== first.size) {
      throw new Error(`${op}: ${describeShape(t)} and ${describeShape(first)} differ in size.`);
    }
  }
  const buffers = new Set(sized.map((t) => t.buffer));
  if (buffers.size !== sized.length) {
    throw new Error(`${op}: ${sized.map(describeShape).join(', ')} must be distinct buffers.`);
  }
  if (clipState.dtype !== 'f32' || clipState.size !== 4) {
    throw new Error(`${op}: clipState ${describeShape(clipState)} must be a [4] f32 tensor.`);
  }
}

export async function adamw(runtime: Runtime, args: AdamwArgs): Promise<Dispatch> {
  const { param, grad, expAvg, expAvgSq } = args;
  const label = args.label ?? `adamw ${param.label}`;
  checkOptimizerTensors(label, [param, grad, expAvg, expAvgSq], args.clipState);
  if (!(Number.isFinite(args.eps) && args.eps >= 0))
    throw new Error(`${label}: eps must be ≥ 0, got ${args.eps}.`);
  if (!(Number.isFinite(args.weightDecay) && args.weightDecay >= 0)) {
    throw new Error(`${label}: weightDecay must be ≥ 0, got ${args.weightDecay}.`);
  }
  const vecCount = Math.ceil(param.size / 4);
  const [beta1, beta2] = args.step.betas;
  const lrScale = checkedLrScale(label, args.lrScale);
  const params = new ArrayBuffer(48);
  new Uint32Array(params, 0, 2).set([param.size, vecCount]);
  new Float32Array(params, 8, 7).set([
    args.eps,
    args.weightDecay,
    beta1,
    beta2,
    1 - beta1,
    1 - beta2,
    lrScale,
  ]);
  const uniform = createUniform(runtime, 'uniforms', params);
  return makeDispatch(runtime, {
    kernel: adamwKernel,
    buffers: [
      args.step.buffer,
      uniform,
      args.clipState.buffer,
      grad.buffer,
      param.buffer,
      expAvg.buffer,
      expAvgSq.buffer,
    ],
    workgroups: grid1d(runtime, vecCount, workgroupSize),
    label,
    owned: [uniform],
  });
}
