/**
 * DPO on the GPU (preference-objective.ts, preference-head.ts):
 * - the step's gradient is Σ_s c_s·∇(Σ_t cross-entropy of sequence s), with c_s DPO's weight of sequence
 *   s computed in float64 from the sequences' log-probabilities, for each of TRL's loss types here; each ∇ comes from the already-proven
 *   cross-entropy step with only that sequence labelled, so the preference kernel, the loss-only pass
 *   and the weighted gradient pass are checked together, whole and with the LM head in chunks;
 * - a LoRA run starts at log 2 (the policy is the reference) and learns to prefer the chosen responses;
 * - a fully fine-tuned run resumed from a checkpoint keeps the references of the model it started from.
 */
import { describe, expect, it } from 'vitest';
import type { PreferenceLossType } from '../../gpu/kernels/preference-loss/preference-loss';
import { preferenceLossRef } from '../../gpu/kernels/preference-loss/preference-loss.ref';
import { downloadTensor, writeTensor } from '../../gpu/tensor';
import { seededRandom } from '../../gpu/testing/random';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { checkpointFiles, readCheckpoint } from '../checkpoint-state';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { createDecoderModel } from '../models/create-model';
import { DecoderStep, type TokenBatch } from '../models/decoder-step';
import { FullFineTuning } from '../peft/full';
import { LoraAdaptation } from '../peft/lora';
import { defaultTrainConfig, type TrainConfig } from '../train-config';
import { type EvalEvent, type StepMetrics, Trainer } from '../trainer';
import type { PreferencePair } from './pairs';
import { PreferenceObjective } from './preference-objective';

async function tinyLlama() {
  const runtime = await testRuntime();
  const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles({ family: 'llama', seed: 6 })));
  return { runtime, model: await createDecoderModel(runtime, checkpoint) };
}

/** Pairs whose prompts are counting runs; the chosen answer continues the run, the rejected one repeats. */
function countingPairs(count: number, seed: number): PreferencePair[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const start = 10 + Math.floor(random() * 100);
    const prompt = Array.from({ length: 3 + Math.floor(random() * 4) }, (_, i) => start + i);
    const next = start + prompt.length;
    const side = (answer: number[]) => ({
      ids: [...prompt, ...answer],
      labels: [...prompt.map(() => -100), ...answer],
    });
    return { chosen: side([next, next + 1, next + 2]), rejected: side([next - 1, next - 1]) };
  });
}

/** Rows [chosen…, rejected…] of the pairs, padded to T. */
function pairRows(pairs: PreferencePair[], T: number): TokenBatch {
  const sides = [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)];
  const pad = (row: number[], fill: number) => [...row, ...Array(T - row.length).fill(fill)];
  return {
    ids: sides.map((s) => pad(s.ids, 0)),
    attentionMask: sides.map((s) =>
      pad(
        s.ids.map(() => 1),
        0,
      ),
    ),
    labels: sides.map((s) => pad(s.labels ?? s.ids, -100)),
  };
}

describe('DPO', () => {
  it.each<{ chunkRows?: number; lossType: PreferenceLossType }>([
    { lossType: 'sigmoid' },
    { chunkRows: 5, lossType: 'sigmoid' },
    { chunkRows: 5, lossType: 'ipo' },
    { lossType: 'hinge' },
  ])(
    'steps along the $lossType-weighted sum of each sequence gradient (head chunk rows $chunkRows)',
    async ({ chunkRows, lossType }) => {
      const { runtime, model } = await tinyLlama();
      const lora = new LoraAdaptation(runtime, model, {
        r: 4,
        alpha: 8,
        targetModules: 'all-linear',
        seed: 3,
      });
      // Random B matrices too, so the adapted model is not the base and every LoRA tensor has a gradient.
      const random = seededRandom(12);
      for (const e of lora.trainable())
        writeTensor(
          runtime.device,
          e.param,
          Float32Array.from({ length: e.param.size }, () => (random() - 0.5) * 0.2),
        );
      const pairs = countingPairs(3, 5);
      const [B, T] = [3, 16];
      const batch = pairRows(pairs, T);
      const options = {
        adaptation: lora,
        backward: true,
        ...(chunkRows ? { lmHeadChunkRows: chunkRows } : {}),
      };
      const read = async () => {
        const grads = new Map<string, Float32Array>();
        for (const e of lora.trainable()) grads.set(e.name, await downloadTensor(runtime.arena, e.grad));
        return grads;
      };

      // Each sequence alone through the cross-entropy step: its summed log-probability and gradient.
      const ce = await DecoderStep.plan(runtime, model, { B: 2 * B, T }, options);
      const logp: number[] = [];
      const sequenceGrads: Map<string, Float32Array>[] = [];
      for (let s = 0; s < 2 * B; s++) {
        const only = {
          ...batch,
          labels: batch.labels.map((row, r) => (r === s ? row : row.map(() => -100))),
        };
        ce.run(only, { normalizeBy: 1 }); // scale 1: the gradient of the summed cross-entropy
        const { loss, tokens } = await ce.loss();
        logp.push(-loss * tokens);
        sequenceGrads.push(await read());
      }
      const reference = Float32Array.from(logp, (l) => l + (random() - 0.5) * 8);
      const weight = new Float32Array(B).fill(1 / B);
      const beta = 0.5;
      // IPO's per-token ratios: each sequence's labels, as the step shifts them (never the first token).
      const counts = batch.labels.map((row) => row.slice(1).filter((l) => l !== -100).length);
      // logp = −Σ cross-entropy: the reference takes the summed cross-entropies as each sequence's loss.
      const expected = preferenceLossRef(
        logp.map((l) => -l),
        reference,
        weight,
        beta,
        lossType,
        counts,
      );

      const dpo = await DecoderStep.plan(
        runtime,
        model,
        { B: 2 * B, T },
        { ...options, preference: { beta, lossType } },
      );
      dpo.preference?.write(reference, weight);
      dpo.run(batch);
      const got = await dpo.preference!.read();
      for (let s = 0; s < 2 * B; s++) expect(got.logp[s]).toBeCloseTo(logp[s]!, 3);
      for (let p = 0; p < B; p++) expect(got.pairLoss[p]).toBeCloseTo(expected.pairLoss[p]!, 4);
      // Every sequence weighs differently (hinge: those of pairs past the margin weigh 0).
      const weights = new Set(expected.rowScales);
      if (lossType === 'hinge') expect(weights.size).toBeGreaterThan(2);
      else expect(weights.size).toBe(2 * B);

      const grads = await read();
      for (const [name, grad] of grads) {
        const sum = new Float64Array(grad.length);
        sequenceGrads.forEach((g, s) => {
          const part = g.get(name)!;
          for (let i = 0; i < sum.length; i++) sum[i]! += expected.rowScales[s]! * part[i]!;
        });
        const scale = Math.max(...sum.map(Math.abs));
        expect(scale, name).toBeGreaterThan(0);
        const error = Math.max(...grad.map((v, i) => Math.abs(v - sum[i]!)));
        expect(error / scale, name).toBeLessThan(1e-4);
      }
    },
  );

  const config: TrainConfig = {
    ...defaultTrainConfig,
    lr: 2e-2,
    schedule: 'constant',
    batchSize: 2,
    seqLen: 16,
    evalEvery: 0,
    preference: { beta: 0.5 },
  };

  it('starts a LoRA run at log 2 and learns to prefer the chosen responses', async () => {
    const { runtime, model } = await tinyLlama();
    const lora = new LoraAdaptation(runtime, model, { r: 4, alpha: 8, targetModules: 'all-linear', seed: 3 });
    const train = countingPairs(6, 7);
    // Scored through the evaluation path: two of the training pairs.
    const objective = new PreferenceObjective({ train, validation: train.slice(0, 2) }, 0.5);
    const trainer = new Trainer(runtime, model, lora, { ...config, steps: 24 }, objective);
    const steps: StepMetrics[] = [];
    const evals: EvalEvent[] = [];
    const preparing: number[] = [];
    for await (const event of trainer.run()) {
      if (event.kind === 'preparing') preparing.push(event.done / event.total);
      else (event.kind === 'step' ? steps : evals).push(event as never);
    }
    // The reference pass, told batch by batch (2 pairs a batch) over the 6 + 2 pairs, before any step.
    expect(preparing).toEqual([2 / 8, 4 / 8, 6 / 8, 8 / 8]);
    // B = 0: the adapted model is the reference, so every pair's margin is 0.
    expect(steps[0]?.loss).toBeCloseTo(Math.LN2, 5);
    expect(steps[0]?.preference?.rewardMargin).toBeCloseTo(0, 5);
    const last = steps.at(-1)!;
    expect(last.loss).toBeLessThan(0.2);
    expect(last.preference?.rewardAccuracy).toBe(1);
    expect(last.preference?.chosenReward).toBeGreaterThan(0);
    expect(last.preference?.rejectedReward).toBeLessThan(0);
    expect(evals).toHaveLength(1);
    expect(evals.at(-1)?.loss).toBeLessThan(0.2);
    expect(evals.at(-1)?.preference?.rewardAccuracy).toBe(1);
  });

  it('resumes a fully fine-tuned run with the references of the model it started from', async () => {
    const pairs = { train: countingPairs(4, 9), validation: [] };
    const run = async (resumeAfter?: Parameters<Trainer['resume']>[0]) => {
      const { runtime, model } = await tinyLlama();
      const trainer = new Trainer(
        runtime,
        model,
        new FullFineTuning(runtime, model),
        { ...config, lr: 1e-3, steps: 4 },
        new PreferenceObjective(pairs, 0.5),
      );
      if (resumeAfter) trainer.resume(resumeAfter);
      const losses: number[] = [];
      let checkpoint: Parameters<Trainer['resume']>[0] | undefined;
      for await (const event of trainer.run()) {
        if (event.kind !== 'step') continue;
        losses.push(event.loss);
        // Through the files, as a saved checkpoint goes.
        if (event.step === 2) checkpoint = readCheckpoint(checkpointFiles(await trainer.checkpoint()));
      }
      return { losses, checkpoint };
    };
    const whole = await run();
    expect(whole.losses[0]).toBeCloseTo(Math.LN2, 5);
    const resumed = await run(whole.checkpoint);
    expect(resumed.losses).toHaveLength(2);
    for (const [i, loss] of resumed.losses.entries()) expect(loss).toBeCloseTo(whole.losses[i + 2]!, 5);
  });
});
