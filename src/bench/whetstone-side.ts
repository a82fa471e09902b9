/**
 * Whetstone's side of a benchmark case: the model from src/train (createDecoderModel), the training
 * method from src/train/peft, one recorded forward+backward step (DecoderStep) and one recorded AdamW
 * step (GpuOptimizer), replayed as the Trainer replays them. Nothing of the model is copied here.
 *
 * Each case gets its own arena (sharing the device and the pipeline cache), so the arena's peak is that
 * case's alone: weights, adapter, gradients, optimizer state, activations and staging. The logits check
 * plans a second, evaluation-only step in a separate arena, freed before any step is timed.
 *
 * A timed step: upload the batch, replay both recorded steps (encode + submit; the "JS time"), then wait
 * for the loss to come back (the step time, one host round trip, as tfjs's `await cost.data()`).
 */
import { CaseArena } from '../gpu/case-arena';
import { RecordedStep } from '../gpu/recorded-step';
import type { Runtime } from '../gpu/runtime';
import { downloadTensor, writeTensor } from '../gpu/tensor';
import { seededRandom } from '../gpu/testing/random';
import type { Checkpoint } from '../train/io/checkpoint';
import { createDecoderModel } from '../train/models/create-model';
import { DecoderStep, type TokenBatch } from '../train/models/decoder-step';
import { GpuOptimizer } from '../train/optim/optimizer';
import type { Adaptation } from '../train/peft/adaptation';
import { FullFineTuning } from '../train/peft/full';
import { Ia3Adaptation } from '../train/peft/ia3';
import { LoraAdaptation } from '../train/peft/lora';
import { adamHyperparameters, type MethodName } from './cases';
import { type ProbeResult, probeStep } from './dispatch-probe';

/** The adapter's starting values, which the tfjs side must start from too. */
export interface AdapterStart {
  /** By module path: A [r, IN], B [OUT, r], y += scale·x·Aᵀ·Bᵀ. */
  lora: Map<string, { a: Float32Array; aShape: number[]; b: Float32Array; bShape: number[]; scale: number }>;
  /** By module path: ia3_l, [1, IN] (feed-forward) or [OUT, 1]. */
  ia3: Map<string, { l: Float32Array; shape: number[]; feedforward: boolean }>;
}

export interface TimedStep {
  stepMs: number;
  jsMs: number;
  loss: number;
}

function createAdaptation(
  runtime: Runtime,
  model: Awaited<ReturnType<typeof createDecoderModel>>,
  method: MethodName,
) {
  if (method === 'full') return new FullFineTuning(runtime, model);
  if (method === 'ia3') return new Ia3Adaptation(runtime, model);
  const r = method === 'lora-r8' ? 8 : 64;
  return new LoraAdaptation(runtime, model, { r, alpha: 2 * r, dropout: 0, seed: 3 });
}

/**
 * Moves a fresh adapter off its identity start (LoRA B = 0, IA3 l = 1), so the logits check exercises
 * the adapter's path too, and returns the values for the tfjs side.
 */
async function perturbAdapter(runtime: Runtime, adaptation: Adaptation): Promise<AdapterStart> {
  const start: AdapterStart = { lora: new Map(), ia3: new Map() };
  const random = seededRandom(11);
  if (adaptation instanceof LoraAdaptation) {
    const { r, alpha } = adaptation.options;
    for (const [path, w] of adaptation.weights()) {
      const b = Float32Array.from({ length: w.b.size }, () => (random() * 2 - 1) * 0.02);
      writeTensor(runtime.device, w.b, b);
      start.lora.set(path, {
        a: await downloadTensor(runtime.arena, w.a),
        aShape: [...w.a.shape],
        b,
        bShape: [...w.b.shape],
        scale: alpha / r,
      });
    }
  }
  if (adaptation instanceof Ia3Adaptation) {
    for (const [path, v] of adaptation.weights()) {
      const l = Float32Array.from({ length: v.l.size }, () => 1 + (random() * 2 - 1) * 0.1);
      writeTensor(runtime.device, v.l, l);
      start.ia3.set(path, { l, shape: [...v.l.shape], feedforward: v.feedforward });
    }
  }
  return start;
}

export class WhetstoneSide {
  private stepNumber = 0;

  private constructor(
    private readonly runtime: Runtime & { arena: CaseArena },
    private readonly model: Awaited<ReturnType<typeof createDecoderModel>>,
    private readonly adaptation: Adaptation,
    private readonly step: DecoderStep,
    private readonly optimizer: GpuOptimizer,
    private readonly optimizerStep: RecordedStep,
    readonly start: AdapterStart,
  ) {}

  static async create(
    base: Runtime,
    checkpoint: Checkpoint,
    method: MethodName,
    shape: { B: number; T: number },
  ) {
    const runtime = { ...base, arena: new CaseArena(base.device) };
    // A 16-bit checkpoint's frozen matrices stay in half precision, as a training run loads them.
    const use = method === 'full' || method === 'ia3' ? method : 'lora';
    const model = await createDecoderModel(runtime, checkpoint, use);
    const adaptation = createAdaptation(runtime, model, method);
    const start = await perturbAdapter(runtime, adaptation);
    const step = await DecoderStep.plan(runtime, model, shape, { adaptation, backward: true });
    const optimizer = await GpuOptimizer.create(
      runtime,
      adaptation.trainable(),
      'adamw',
      adamHyperparameters,
    );
    const optimizerStep = new RecordedStep(runtime, 'optimizer step', optimizer.dispatches());
    return new WhetstoneSide(runtime, model, adaptation, step, optimizer, optimizerStep, start);
  }

  get trainableParams(): number {
    return this.adaptation.trainable().reduce((n, e) => n + e.param.size, 0);
  }

  get totalParams(): number {
    return [...this.model.params.values()].reduce((n, p) => n + p.size, 0);
  }

  /** Dispatches in the two recorded steps, as planned. */
  get recordedDispatches(): number {
    return this.step.dispatchCount + this.optimizerStep.dispatchCount;
  }

  /** [B·T, V] logits of the model as it stands, from an evaluation step in an arena of its own. */
  async logits(batch: TokenBatch): Promise<Float32Array> {
    const arena = new CaseArena(this.runtime.device);
    try {
      const { B, T } = this.step.inputs;
      const check = await DecoderStep.plan(
        { ...this.runtime, arena },
        this.model,
        { B, T },
        {
          adaptation: this.adaptation,
          keepLogits: true,
        },
      );
      check.run(batch);
      return await check.readLogits();
    } finally {
      arena.destroyAll();
    }
  }

  async timedStep(batch: TokenBatch): Promise<TimedStep> {
    const started = performance.now();
    this.encodeStep(batch);
    const encoded = performance.now();
    const { loss } = await this.step.loss();
    return { stepMs: performance.now() - started, jsMs: encoded - started, loss };
  }

  /** One untimed step with every dispatch counted (and timed on the GPU when asked and possible). */
  probe(batch: TokenBatch, time: boolean): Promise<ProbeResult> {
    return probeStep(
      this.runtime.device,
      async () => {
        this.encodeStep(batch);
        await this.step.loss();
      },
      { time },
    );
  }

  get peakBytes(): number {
    return this.runtime.arena.stats().peakLiveBytes;
  }

  release(): void {
    this.runtime.arena.destroyAll();
  }

  private encodeStep(batch: TokenBatch): void {
    this.step.run(batch);
    this.optimizer.setStep(++this.stepNumber, adamHyperparameters.lr);
    this.optimizerStep.replay();
  }
}
