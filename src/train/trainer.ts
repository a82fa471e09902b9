/**
 * The training loop, the same in a browser worker and in the CLI. Per optimizer step: `gradAccum`
 * micro-batches through one recorded forward+backward step (gradients summed across them, the loss
 * normalised by all their label tokens), then one recorded optimizer step (global-norm clipping and
 * AdamW or SGD on the GPU, the learning rate from the schedule). Streams a metrics event per step and
 * an eval event whenever the validation set is scored.
 */
import type { Dispatch } from '../gpu/dispatch';
import { add } from '../gpu/kernels/add/add';
import { RecordedStep } from '../gpu/recorded-step';
import type { Runtime } from '../gpu/runtime';
import { createTensor, downloadTensor, type Tensor, writeTensor } from '../gpu/tensor';
import type { TokenExample } from './batches';
import { checkBufferLimits } from './buffer-limits';
import { CheckpointError, type CheckpointState, type TrainerPosition } from './checkpoint-state';
import { epochBatches } from './data/order';
import {
  BestWeights,
  type EarlyStoppingVerdict,
  freshEarlyStopping,
  judgeEvaluation,
} from './early-stopping';
import { type DecoderModel, DecoderStep } from './models/decoder-step';
import {
  CausalLmObjective,
  type PreferenceMetrics,
  type PreparingEvent,
  prepared,
  Scores,
  scoreSplit,
  type TrainObjective,
} from './objective';
import { GpuOptimizer } from './optim/optimizer';
import { learningRateMultiplier } from './optim/schedule';
import type { Adaptation, TrainableEntry } from './peft/adaptation';
import { methodSettingsOf } from './plan/adaptation-settings';
import { checkRunMemory } from './plan/check-run';
import { checkLoraPlusMethod, type TrainConfig, TrainConfigError, validateTrainConfig } from './train-config';

export interface StepMetrics {
  kind: 'step';
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  stepTimeMs: number;
  tokensPerSecond: number;
  gpuBytes: number;
  peakGpuBytes: number;
  trainableParams: number;
  totalParams: number;
  /** DPO runs: the step's rewards, as TRL logs them. */
  preference?: PreferenceMetrics;
}

/**
 * An update's step event from what the loop knows; the time since `started`, the throughput and the
 * arena's live and peak bytes are measured here, after the update (its gradient norm read back).
 */
export function measuredStep(
  runtime: Runtime,
  update: Pick<StepMetrics, 'step' | 'epoch' | 'loss' | 'lr' | 'gradNorm' | 'tokens' | 'preference'>,
  started: number,
  counts: { trainable: number; total: number },
): StepMetrics {
  const stepTimeMs = performance.now() - started;
  const stats = runtime.arena.stats();
  return {
    kind: 'step',
    ...update,
    stepTimeMs,
    tokensPerSecond: update.tokens / (stepTimeMs / 1000),
    gpuBytes: stats.liveBytes,
    peakGpuBytes: stats.peakLiveBytes,
    trainableParams: counts.trainable,
    totalParams: counts.total,
  };
}

export interface EvalEvent {
  kind: 'eval';
  step: number;
  loss: number;
  tokens: number;
  /** DPO runs: the validation pairs' rewards. */
  preference?: PreferenceMetrics;
  /** With early stopping: the best so far and whether the run stops here (early-stopping.ts). */
  earlyStopping?: EarlyStoppingVerdict;
}

/** Steps, evaluations, and before the first step any work the objective does first (DPO's reference pass). */
export type TrainEvent = StepMetrics | EvalEvent | PreparingEvent;

/** Adaptations whose randomness (dropout) follows the step. */
interface Stepped {
  setStep(step: number): void;
}

const isStepped = (a: Adaptation): a is Adaptation & Stepped =>
  typeof (a as Partial<Stepped>).setStep === 'function';

export class Trainer {
  private readonly config: TrainConfig;
  readonly totalSteps: number;
  private readonly T: number;
  private readonly objective: TrainObjective;

  /**
   * Token examples train on next-token cross-entropy; a `PreferenceObjective` (with
   * `config.preference`) trains DPO on preference pairs.
   */
  constructor(
    private readonly runtime: Runtime,
    private readonly model: DecoderModel,
    private readonly adaptation: Adaptation,
    config: TrainConfig,
    train: TokenExample[] | TrainObjective,
    validation: TokenExample[] = [],
  ) {
    this.config = validateTrainConfig(config);
    checkLoraPlusMethod(this.config, adaptation.method);
    const objective = Array.isArray(train) ? new CausalLmObjective(train, validation) : train;
    this.objective = objective;
    if ((objective.kind === 'dpo') !== (config.preference !== undefined))
      throw new TrainConfigError('A DPO run takes preference pairs and a beta, both or neither.');
    if (objective.size('train') === 0) throw new TrainConfigError('The training set is empty.');
    if (config.earlyStoppingPatience !== undefined && objective.size('validation') === 0)
      throw new TrainConfigError(
        'Early stopping compares validation losses, and this run has no validation set.',
      );
    const perEpoch = Math.ceil(Math.ceil(objective.size('train') / config.batchSize) / config.gradAccum);
    this.totalSteps = config.steps ?? perEpoch * config.epochs;
    this.T = objective.rowLength(config.seqLen);
    // Refuse a run that cannot fit before its step is planned: the memory plan (per-buffer limits and
    // the memory budget), or for a method the planner does not know, the per-buffer limits alone. A
    // pair is two rows of the step.
    const rows = config.batchSize * objective.rowsPerExample;
    checkBufferLimits(model.config, { B: rows, T: this.T }, runtime.device.limits);
    const method = methodSettingsOf(adaptation, model);
    if (method) {
      checkRunMemory(
        model.config,
        method,
        { ...this.config, batchSize: rows },
        {
          T: this.T,
          evaluation: objective.size('validation') > 0,
          limits: runtime.device.limits,
        },
      );
    }
  }

  /** Trainable and total parameter counts. */
  parameterCounts(): { trainable: number; total: number } {
    const trainable = this.adaptation.trainable();
    const inBase = new Set(this.model.params.values());
    const extra = trainable.filter((e) => !inBase.has(e.param)).reduce((n, e) => n + e.param.size, 0);
    const base = [...this.model.params.values()].reduce((n, p) => n + p.size, 0);
    return { trainable: trainable.reduce((n, e) => n + e.param.size, 0), total: base + extra };
  }

  private accumulation(entries: TrainableEntry[]) {
    if (this.config.gradAccum === 1)
      return { entries, sums: [] as Tensor[], plan: async () => [] as Dispatch[] };
    const sums = entries.map((e) =>
      createTensor(this.runtime.arena, `${e.name} accumulated grad`, e.grad.shape),
    );
    return {
      entries: entries.map((e, i) => ({ ...e, grad: sums[i] as Tensor })),
      sums,
      plan: () =>
        Promise.all(
          entries.map((e, i) => add(this.runtime, { b: e.grad, out: sums[i] as Tensor, accumulate: true })),
        ),
    };
  }

  private position: TrainerPosition = { step: 0, epoch: 0, queue: [] };
  private resumeFrom?: CheckpointState;
  private optimizer?: GpuOptimizer;

  /** Continues from a checkpoint on the next `run()`: same batches, dropout masks and updates. */
  resume(checkpoint: CheckpointState): void {
    if (checkpoint.method !== this.adaptation.method) {
      throw new CheckpointError(
        `This checkpoint is of a ${checkpoint.method} run, not ${this.adaptation.method}.`,
      );
    }
    for (const entry of this.adaptation.trainable()) {
      const saved = checkpoint.tensors.get(`param:${entry.name}`);
      if (!saved || saved.data.length !== entry.param.size)
        throw new CheckpointError(`The checkpoint has no matching ${entry.name}.`);
      writeTensor(this.runtime.device, entry.param, saved.data);
    }
    this.objective.restoreState(checkpoint);
    this.position = structuredClone(checkpoint.position);
    this.resumeFrom = checkpoint;
  }

  /** The run's state now, as a checkpoint (call between steps). */
  async checkpoint(): Promise<CheckpointState> {
    const tensors: CheckpointState['tensors'] = new Map();
    const entries = this.adaptation.trainable();
    for (const entry of entries) {
      tensors.set(`param:${entry.name}`, {
        shape: [...entry.param.shape],
        data: await downloadTensor(this.runtime.arena, entry.param),
      });
    }
    const moments = this.optimizer?.state() ?? [];
    for (const [i, m] of moments.entries()) {
      const name = entries[i]?.name as string;
      tensors.set(`exp_avg:${name}`, {
        shape: [...m.expAvg.shape],
        data: await downloadTensor(this.runtime.arena, m.expAvg),
      });
      tensors.set(`exp_avg_sq:${name}`, {
        shape: [...m.expAvgSq.shape],
        data: await downloadTensor(this.runtime.arena, m.expAvgSq),
      });
    }
    if (this.best && (this.position.earlyStopping?.bestStep ?? 0) > 0)
      await this.best.checkpointTensors(tensors);
    this.objective.saveState(tensors);
    return {
      position: structuredClone(this.position),
      config: this.config,
      method: this.adaptation.method,
      tensors,
    };
  }

  private restoreMoments(optimizer: GpuOptimizer, entries: TrainableEntry[]): void {
    const saved = this.resumeFrom;
    if (!saved) return;
    for (const [i, m] of optimizer.state().entries()) {
      const name = entries[i]?.name as string;
      for (const [key, tensor] of [
        [`exp_avg:${name}`, m.expAvg],
        [`exp_avg_sq:${name}`, m.expAvgSq],
      ] as const) {
        const data = saved.tensors.get(key)?.data;
        if (!data) throw new CheckpointError(`The checkpoint has no ${key}.`);
        writeTensor(this.runtime.device, tensor, data);
      }
    }
    this.resumeFrom = undefined;
  }

  async *run(signal?: AbortSignal): AsyncGenerator<TrainEvent> {
    const c = this.config;
    const { runtime, objective } = this;
    yield* objective.prepare(runtime, this.model, { batchSize: c.batchSize, T: this.T });
    if (signal?.aborted) return;
    const step = await DecoderStep.plan(
      runtime,
      this.model,
      { B: c.batchSize * objective.rowsPerExample, T: this.T },
      {
        adaptation: this.adaptation,
        backward: true,
        gradientCheckpointing: c.gradientCheckpointing,
        ...objective.stepOptions,
      },
    );
    const accumulation = this.accumulation(this.adaptation.trainable());
    const addGrads =
      c.gradAccum > 1 ? new RecordedStep(runtime, 'accumulate gradients', await accumulation.plan()) : null;
    const optimizer = await GpuOptimizer.create(runtime, accumulation.entries, c.optimizer, {
      lr: c.lr,
      betas: c.betas,
      eps: c.eps,
      weightDecay: c.weightDecay,
      maxGradNorm: c.maxGradNorm,
      ...(c.loraPlusLrRatio === undefined ? {} : { loraPlusLrRatio: c.loraPlusLrRatio }),
    });
    this.optimizer = optimizer;
    this.best?.release();
    this.best = c.earlyStoppingPatience ? new BestWeights(runtime, this.adaptation.trainable()) : undefined;
    if (this.best && this.resumeFrom && (this.position.earlyStopping?.bestStep ?? 0) > 0)
      this.best.resume(this.resumeFrom);
    // Last: it lets go of the checkpoint.
    this.restoreMoments(optimizer, this.adaptation.trainable());
    const optimizerStep = new RecordedStep(runtime, 'optimizer step', optimizer.dispatches());
    const counts = this.parameterCounts();

    const at = this.position;
    const shape = this.batchShape();
    const nextMicroBatch = () => {
      if (at.queue.length === 0) at.queue = epochBatches(objective.size('train'), c.batchSize, at.epoch++, c);
      return objective.batch('train', at.queue.shift() as number[], shape);
    };

    for (let s = at.step; s < this.totalSteps; s++) {
      if (signal?.aborted) return;
      const started = performance.now();
      const micro = Array.from({ length: c.gradAccum }, nextMicroBatch);
      const total = micro.reduce((n, b) => n + b.units, 0);
      if (isStepped(this.adaptation)) this.adaptation.setStep(s);
      if (addGrads) for (const sum of accumulation.sums) this.clear(sum);
      const scored = new Scores();
      for (const batch of micro) {
        objective.run(step, batch, total);
        addGrads?.replay();
        scored.add(await objective.read(step, batch));
      }
      const steps = { warmupSteps: c.warmupSteps, totalSteps: this.totalSteps };
      const lr = c.lr * learningRateMultiplier(c.schedule, s, steps);
      optimizer.setStep(s + 1, lr);
      optimizerStep.replay();
      const gradNorm = await optimizer.readGradNorm();
      at.step = s + 1;
      const tokens = micro.reduce((n, b) => n + b.tokens, 0);
      yield measuredStep(
        runtime,
        {
          step: s + 1,
          epoch: at.epoch,
          loss: scored.mean(),
          lr,
          gradNorm,
          tokens,
          ...scored.summary(objective),
        },
        started,
        counts,
      );
      const last = s + 1 === this.totalSteps;
      if (objective.size('validation') > 0 && (last || (c.evalEvery > 0 && (s + 1) % c.evalEvery === 0))) {
        const evaluated = await this.evaluate();
        const verdict = this.judge(evaluated.loss, s + 1, last);
        yield { kind: 'eval', step: s + 1, ...evaluated, ...(verdict ? { earlyStopping: verdict } : {}) };
        if (verdict?.stop) return;
      }
    }
  }

  private best?: BestWeights;

  /**
   * Early stopping after an evaluation: keeps the weights when they are the best yet, and on the last
   * evaluation (patience spent, or the last step) puts the best back.
   */
  private judge(loss: number, step: number, last: boolean): EarlyStoppingVerdict | undefined {
    const patience = this.config.earlyStoppingPatience;
    if (!patience || !this.best) return undefined;
    const { position, verdict } = judgeEvaluation(
      this.position.earlyStopping ?? freshEarlyStopping(),
      loss,
      step,
      patience,
    );
    this.position.earlyStopping = position;
    if (verdict.improved) this.best.keep();
    else if (verdict.stop || last) this.best.restore();
    return verdict;
  }

  private evalStep?: DecoderStep;

  private batchShape() {
    return {
      batchSize: this.config.batchSize,
      T: this.T,
      virtualTokens: this.adaptation.virtualTokens ?? 0,
    };
  }

  /**
   * The mean loss over the validation set: over every label token, or for DPO over every pair (with
   * its rewards). `tokens` counts the label tokens, or for DPO the pairs.
   */
  async evaluate(): Promise<{ loss: number; tokens: number; preference?: PreferenceMetrics }> {
    const c = this.config;
    const { objective } = this;
    await prepared(objective.prepare(this.runtime, this.model, { batchSize: c.batchSize, T: this.T }));
    this.evalStep ??= await DecoderStep.plan(
      this.runtime,
      this.model,
      { B: c.batchSize * objective.rowsPerExample, T: this.T },
      { adaptation: this.adaptation, ...objective.stepOptions },
    );
    return scoreSplit(this.evalStep, objective, 'validation', this.batchShape());
  }

  private clear(tensor: Tensor): void {
    const encoder = this.runtime.device.createCommandEncoder({ label: `clear ${tensor.label}` });
    encoder.clearBuffer(tensor.buffer);
    this.runtime.device.queue.submit([encoder.finish()]);
  }
}
