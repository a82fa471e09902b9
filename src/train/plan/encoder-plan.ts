/**
 * The memory planner for encoder classifiers (BERT, DistilBERT, RoBERTa): from a config alone (no GPU),
 * the bytes a ClassifierTrainer run holds at its peak, by component, as the same MemoryPlan decoders get
 * (memory-plan.ts), so `plan.fits(limits)`, the refusal's advice, the CLI and the studio treat both alike.
 * It lists the buffers as the encoder code allocates them (encoder-tensors.ts); plan.encoder.node.test.ts
 * holds it within 10% of the arena's measured peak.
 *
 * Contract: `planEncoderMemory(config, method, step)` → MemoryPlan. The class count is `step.numLabels`
 * (the head [K, C]; the config's own when absent). Encoders have no gradient checkpointing: the plan says
 * so in `notes` and reports the same activations with and without it. ClassifierTrainer always plans an
 * evaluation step (of at most 8 rows, eval-batch.ts) beside the training step, so the plan lists one. Dropout is on by default, as
 * classification runs train with it.
 */
import { evalBatchSize } from '../classify/eval-batch';
import type { EncoderConfig } from '../models/bert-config';
import { expectedEncoderWeights } from '../models/bert-weights';
import {
  encoderMethodParameters,
  encoderMethodStepBuffers,
  encoderStepBuffers,
  encoderStepDispatches,
  encoderStepShape,
  trainedHeadNames,
} from './encoder-tensors';
import { fitOf } from './fit';
import { Ledger, type MemoryComponent, memoryComponents } from './ledger';
import { type MemoryPlan, optimizerBuffers, uniformBytesPerDispatch } from './memory-plan';
import {
  type MethodSettings,
  PlanSettingsError,
  type StepSettings,
  validatePlanSettings,
} from './method-settings';

export interface EncoderStepSettings extends StepSettings {
  /** Classes of the head [K, C]; the config's when absent. */
  numLabels?: number;
  /** The model's dropout in training (default true, as classification runs train). */
  dropout?: boolean;
  /** Head weights the checkpoint lacks (EncoderCheckpoint.initialised): a PEFT method trains them too. */
  initialisedHead?: readonly string[];
}

export const encoderCheckpointingNote =
  'Encoders have no gradient checkpointing: every layer keeps its activations, so the figure is the same with it on or off.';

/** Tokens per row the position table holds: P, less RoBERTa's padding_idx + 1 offset (bert.ts). */
export function encoderMaxTokens(c: EncoderConfig): number {
  return c.family === 'roberta' ? c.P - c.padTokenId - 1 : c.P;
}

/** The config with the step's class count (the head [K, C]). */
function withLabels(c: EncoderConfig, numLabels: number | undefined): EncoderConfig {
  if (numLabels === undefined || numLabels === c.K) return c;
  if (!(Number.isInteger(numLabels) && numLabels >= 2))
    throw new PlanSettingsError(
      `A classifier needs at least 2 classes (number of labels), got ${numLabels}.`,
    );
  return { ...c, K: numLabels, labels: Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`) };
}

export function planEncoderMemory(
  config: EncoderConfig,
  method: MethodSettings,
  step: EncoderStepSettings,
): MemoryPlan {
  validatePlanSettings(method, step);
  const c = withLabels(config, step.numLabels);
  const dropout = step.dropout ?? true;
  const shape = encoderStepShape(c, method, step.batchSize, step.seqLen);
  const maxT = encoderMaxTokens(c);
  if (shape.T > maxT)
    throw new PlanSettingsError(
      `${c.architecture} takes at most ${maxT} positions per row; this step has ${shape.T}` +
        (shape.T > step.seqLen
          ? ` (${step.seqLen} tokens and ${shape.T - step.seqLen} virtual tokens)`
          : '') +
        '. Lower the sequence length.',
    );
  const N = step.batchSize * shape.T;

  const ledger = new Ledger();
  const weights = expectedEncoderWeights(c);
  for (const [name, dims] of weights) ledger.tensor('weights', name, dims);
  const { trainable } = encoderMethodParameters(c, method, ledger, step.initialisedHead);
  const ia3Scratch = new Set<string>();
  // The training step, then ClassifierEvaluator's forward-only step of its (at most 8-row) batches.
  const evalShape = encoderStepShape(c, method, evalBatchSize(step.batchSize), step.seqLen);
  encoderStepBuffers(c, method, shape, true, dropout, ledger);
  encoderMethodStepBuffers(c, method, N, true, ledger, ia3Scratch);
  encoderStepBuffers(c, method, evalShape, false, false, ledger);
  encoderMethodStepBuffers(c, method, evalShape.B * evalShape.T, false, ledger, ia3Scratch);
  optimizerBuffers(ledger, trainable, step);
  const dispatches =
    encoderStepDispatches(c, method, true) + encoderStepDispatches(c, method, false) + 3 * trainable.length;
  ledger.bytes('workspace', 'dispatch uniforms', uniformBytesPerDispatch * dispatches);
  // The loss rows come back through a staging buffer while everything above is live.
  ledger.tensor('workspace', 'loss read-back staging', [step.batchSize]);

  const count = (shapes: Iterable<number[]>) =>
    [...shapes].reduce((n, d) => n + d.reduce((a, b) => a * b, 1), 0);
  const base = count(weights.values());
  const trainableCount = count(trainable);
  const activations = ledger.total('activations');
  const largest = ledger.largest();
  const plan: MemoryPlan = {
    components: Object.fromEntries(memoryComponents.map((k) => [k, ledger.total(k)])) as Record<
      MemoryComponent,
      number
    >,
    totalBytes: ledger.total(),
    largestBuffer: { label: largest.label, bytes: largest.bytes, component: largest.component },
    activationBytes: { withCheckpointing: activations, withoutCheckpointing: activations },
    parameters: {
      total: method.method === 'full' ? base : base + trainableCount - count(headTrained(c, method, step)),
      trainable: trainableCount,
    },
    rows: N,
    // Encoders load every weight in f32.
    halfWeights: false,
    quantizedWeights: false,
    notes: [encoderCheckpointingNote],
    settings: { method, step: { ...step, numLabels: c.K } as StepSettings },
    fits: (limits) => fitOf(plan, limits),
  };
  return plan;
}

/** The head shapes a PEFT method trains, which are base weights and so not added parameters. */
function headTrained(c: EncoderConfig, method: MethodSettings, step: EncoderStepSettings): number[][] {
  if (method.method === 'full') return [];
  const weights = expectedEncoderWeights(c);
  return trainedHeadNames(c, step.initialisedHead).map((name) => weights.get(name) as number[]);
}
