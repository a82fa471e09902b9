/**
 * The per-step values every optimizer dispatch of a step reads: one 16-byte uniform, shared by all
 * tensors, that the trainer rewrites once per step before replaying the recorded step (like RngState).
 * Layout (f32): [lr, lr / (1 − β1ᵗ), sqrt(1 − β2ᵗ), 0], the bias corrections of torch.optim.AdamW
 * computed in float64 on the host; SGD reads only lr. `step` is t, the 1-based number of the update,
 * as torch counts it in state['step'] after incrementing.
 */
import type { Runtime } from '../../runtime';

export interface OptimizerStepUniform {
  readonly buffer: GPUBuffer;
  readonly betas: readonly [number, number];
  step: number;
  lr: number;
  set(step: number, lr: number): void;
}

/** [lr, step size lr / (1 − β1ᵗ), sqrt(1 − β2ᵗ), 0] for update t (1-based). */
export function stepUniformValues(betas: readonly [number, number], step: number, lr: number): number[] {
  if (!(Number.isInteger(step) && step >= 1)) {
    throw new Error(`Optimizer step must be a whole number ≥ 1 (torch counts updates from 1), got ${step}.`);
  }
  if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`Learning rate must be finite and ≥ 0, got ${lr}.`);
  const [beta1, beta2] = betas;
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
    throw new Error(`Optimizer betas must lie in [0, 1), got ${betas.join(', ')}.`);
  }
  return [lr, lr / (1 - beta1 ** step), Math.sqrt(1 - beta2 ** step), 0];
}

export function createOptimizerStepUniform(
  runtime: Runtime,
  betas: readonly [number, number],
  label = 'optimizer step',
): OptimizerStepUniform {
  stepUniformValues(betas, 1, 0);
  const buffer = runtime.arena.alloc(label, 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  const uniform: OptimizerStepUniform = {
    buffer,
    betas: [betas[0], betas[1]],
    step: 1,
    lr: 0,
    set(step: number, lr: number) {
      const values = stepUniformValues(uniform.betas, step, lr);
      uniform.step = step;
      uniform.lr = lr;
      runtime.device.queue.writeBuffer(buffer, 0, new Float32Array(values));
    },
  };
  uniform.set(1, 0);
  return uniform;
}
