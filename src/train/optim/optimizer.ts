/**
 * The optimizer on the GPU: global gradient-norm clipping, then one fused update per trainable tensor,
 * planned once and appended to the recorded training step, with no trip to the host inside the step.
 *
 *   dispatches(): grad-norm partial passes (ceil(T / 7)), grad-norm finish (1), update per tensor (T)
 *   setStep(t, lr): rewrites the one uniform every update reads (lr, bias corrections); call it before
 *                   each replay, t the 1-based update number (torch's state['step']), lr from the schedule
 *   readGradNorm(): the pre-clipping global norm of the last step, downloaded (for metrics, after a step)
 *
 * Semantics: torch.nn.utils.clip_grad_norm_(params, maxGradNorm) (skipped, as HF's Trainer skips it, when
 * maxGradNorm is 0; the norm is still computed for metrics), then torch.optim.AdamW or torch.optim.SGD
 * (momentum 0). Weight decay applies only to tensors of two or more dimensions (matrices, not biases or
 * norm weights), the convention of HF's Trainer and PEFT. Gradients are read, never modified.
 * LoRA+ (`loraPlusLrRatio`; Hayou et al. 2024) gives some tensors ratio × the rate, grouped as PEFT's
 * create_loraplus_optimizer groups them (loraPlusLrScale).
 * State: m and v (torch's exp_avg, exp_avg_sq) per tensor for AdamW, zeroed at creation: 8 bytes per
 * trainable parameter.
 */
import { type Dispatch, releaseDispatches } from '../../gpu/dispatch';
import { adamw } from '../../gpu/kernels/adamw/adamw';
import { createOptimizerStepUniform, type OptimizerStepUniform } from '../../gpu/kernels/adamw/step-uniform';
import { createClipState, gradNorm } from '../../gpu/kernels/grad-norm/grad-norm';
import { sgd } from '../../gpu/kernels/sgd/sgd';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, describeShape, downloadTensor, releaseTensor, type Tensor } from '../../gpu/tensor';
import type { TrainableEntry } from '../peft/adaptation';

export type OptimizerKind = 'adamw' | 'sgd';

export interface OptimizerHyperparameters {
  /** The base learning rate; `setStep` takes the scheduled one. */
  lr: number;
  /** AdamW's β1, β2; unused by SGD. */
  betas: [number, number];
  /** AdamW's eps; unused by SGD. */
  eps: number;
  /** Decoupled for AdamW, coupled for SGD; on tensors of two or more dimensions only. */
  weightDecay: number;
  /** Global L2 norm to clip gradients to; 0 turns clipping off. */
  maxGradNorm: number;
  /** LoRA+: LoRA's B matrices and every vector learn at this many times the rate; absent: all alike. */
  loraPlusLrRatio?: number;
}

/**
 * A tensor's rate ÷ the step's under LoRA+, by PEFT's grouping (optimizers/loraplus.py): a tensor named
 * lora_B, or any vector (DoRA's magnitude, a bias), takes the ratio; the rest (lora_A) the rate itself.
 */
export function loraPlusLrScale(name: string, shape: readonly number[], ratio: number | undefined): number {
  if (ratio === undefined) return 1;
  return name.includes('lora_B') || shape.length === 1 ? ratio : 1;
}

/** HF TrainingArguments' defaults. */
export const defaultOptimizerHyperparameters: OptimizerHyperparameters = {
  lr: 5e-5,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  maxGradNorm: 1,
};

export class OptimizerConfigError extends Error {
  override readonly name = 'OptimizerConfigError';
}

/** The weight decay a tensor gets: the configured one on matrices and up, 0 on vectors and scalars. */
export function weightDecayFor(shape: readonly number[], weightDecay: number): number {
  return shape.length >= 2 ? weightDecay : 0;
}

function validate(
  entries: readonly TrainableEntry[],
  kind: OptimizerKind,
  h: OptimizerHyperparameters,
): void {
  if (kind !== 'adamw' && kind !== 'sgd') throw new OptimizerConfigError(`Unknown optimizer "${kind}".`);
  if (entries.length === 0) throw new OptimizerConfigError('The optimizer was given no trainable tensors.');
  if (!(Number.isFinite(h.lr) && h.lr >= 0))
    throw new OptimizerConfigError(`Learning rate must be finite and ≥ 0, got ${h.lr}.`);
  if (!h.betas.every((b) => b >= 0 && b < 1))
    throw new OptimizerConfigError(`Betas must lie in [0, 1), got ${h.betas.join(', ')}.`);
  if (!(Number.isFinite(h.eps) && h.eps >= 0))
    throw new OptimizerConfigError(`eps must be ≥ 0, got ${h.eps}.`);
  if (!(Number.isFinite(h.weightDecay) && h.weightDecay >= 0))
    throw new OptimizerConfigError(`Weight decay must be ≥ 0, got ${h.weightDecay}.`);
  if (h.loraPlusLrRatio !== undefined && !(Number.isFinite(h.loraPlusLrRatio) && h.loraPlusLrRatio > 0))
    throw new OptimizerConfigError(`The LoRA+ ratio must be above 0, got ${h.loraPlusLrRatio}.`);
  if (!(Number.isFinite(h.maxGradNorm) && h.maxGradNorm >= 0))
    throw new OptimizerConfigError(`Max grad norm must be 0 (off) or positive, got ${h.maxGradNorm}.`);
  const seen = new Set<GPUBuffer>();
  for (const { name, param, grad } of entries) {
    if (param.size !== grad.size) {
      throw new OptimizerConfigError(
        `${name}: parameter ${describeShape(param)} and gradient ${describeShape(grad)} differ in size.`,
      );
    }
    if (seen.has(param.buffer))
      throw new OptimizerConfigError(`${name}: the same parameter is listed twice.`);
    seen.add(param.buffer);
  }
}

interface Moments {
  expAvg: Tensor;
  expAvgSq: Tensor;
}

export class GpuOptimizer {
  private constructor(
    private readonly runtime: Runtime,
    readonly kind: OptimizerKind,
    readonly hyper: OptimizerHyperparameters,
    private readonly step: OptimizerStepUniform,
    private readonly clipState: Tensor,
    private readonly moments: readonly Moments[],
    private readonly planned: readonly Dispatch[],
  ) {}

  static async create(
    runtime: Runtime,
    entries: readonly TrainableEntry[],
    kind: OptimizerKind,
    hyper: OptimizerHyperparameters,
  ): Promise<GpuOptimizer> {
    validate(entries, kind, hyper);
    const step = createOptimizerStepUniform(runtime, hyper.betas);
    step.set(1, hyper.lr);
    const clipState = createClipState(runtime, 'optimizer clip state');
    const moments: Moments[] =
      kind === 'adamw'
        ? entries.map(({ name, param }) => ({
            expAvg: createTensor(runtime.arena, `${name}.exp_avg`, param.shape),
            expAvgSq: createTensor(runtime.arena, `${name}.exp_avg_sq`, param.shape),
          }))
        : [];
    // The arena hands back buffers as they were left: zero the moments on the GPU, without host copies.
    if (moments.length > 0) {
      const encoder = runtime.device.createCommandEncoder({ label: 'zero optimizer state' });
      for (const m of moments) for (const t of [m.expAvg, m.expAvgSq]) encoder.clearBuffer(t.buffer);
      runtime.device.queue.submit([encoder.finish()]);
    }
    const planned: Dispatch[] = [
      ...(await gradNorm(runtime, {
        grads: entries.map((e) => e.grad),
        clipState,
        maxNorm: hyper.maxGradNorm,
        label: 'grad norm',
      })),
    ];
    for (const [i, { name, param, grad }] of entries.entries()) {
      const weightDecay = weightDecayFor(param.shape, hyper.weightDecay);
      const lrScale = loraPlusLrScale(name, param.shape, hyper.loraPlusLrRatio);
      const m = moments[i];
      planned.push(
        m
          ? await adamw(runtime, {
              param,
              grad,
              expAvg: m.expAvg,
              expAvgSq: m.expAvgSq,
              clipState,
              step,
              eps: hyper.eps,
              weightDecay,
              lrScale,
              label: `adamw ${name}`,
            })
          : await sgd(runtime, { param, grad, clipState, step, weightDecay, lrScale, label: `sgd ${name}` }),
      );
    }
    return new GpuOptimizer(runtime, kind, hyper, step, clipState, moments, planned);
  }

  /** The optimizer's part of a training step, in order; append them after the backward pass. */
  dispatches(): Dispatch[] {
    return [...this.planned];
  }

  /** Sets update t (1-based) and its learning rate for the next replay; lr defaults to the base rate. */
  setStep(step: number, lr = this.hyper.lr): void {
    this.step.set(step, lr);
  }

  get currentStep(): number {
    return this.step.step;
  }

  /** The global gradient norm (before clipping) of the last step that ran. Waits for the GPU. */
  async readGradNorm(): Promise<number> {
    return (await this.readClipState()).norm;
  }

  async readClipState(): Promise<{ norm: number; coefficient: number }> {
    const [norm, coefficient] = await downloadTensor(this.runtime.arena, this.clipState);
    return { norm: norm as number, coefficient: coefficient as number };
  }

  /** m and v of each entry, in order (AdamW only); for checkpoints and tests. */
  state(): readonly Moments[] {
    return this.moments;
  }

  /** Frees the state and the planned dispatches; the recorded step that holds them must not replay again. */
  release(): void {
    releaseDispatches(this.runtime, this.planned);
    for (const m of this.moments) {
      releaseTensor(this.runtime.arena, m.expAvg);
      releaseTensor(this.runtime.arena, m.expAvgSq);
    }
    releaseTensor(this.runtime.arena, this.clipState);
    this.runtime.arena.release(this.step.buffer);
  }
}
