/**
 * Early stopping on the GPU (early-stopping.ts): a LoRA run at a rate that overfits its three training
 * rows stops once its validation loss has not improved for `patience` evaluations, and ends holding
 * exactly the weights a run stopped at the best step holds (a constant rate, so the shorter run is the
 * longer one's prefix); a run resumed from a checkpoint taken mid-way ends on the same weights.
 */
import { describe, expect, it } from 'vitest';
import { downloadTensor } from '../gpu/tensor';
import { testRuntime } from '../gpu/testing/test-runtime';
import type { TokenExample } from './batches';
import { checkpointFiles, readCheckpoint } from './checkpoint-state';
import { tinyModelFiles } from './fixtures/tiny-models';
import { openCheckpoint } from './io/checkpoint';
import { filesFromMemory } from './io/model-files';
import { createDecoderModel } from './models/create-model';
import { LoraAdaptation } from './peft/lora';
import { defaultTrainConfig, type TrainConfig } from './train-config';
import { type EvalEvent, type TrainEvent, Trainer } from './trainer';

const bytes = (text: string) => [...new TextEncoder().encode(text)];
const train: TokenExample[] = ['Hello, world!', 'Whetstone', 'ok'].map((t) => ({ ids: bytes(t) }));
const validation: TokenExample[] = [{ ids: bytes('Something else entirely.') }];

const config: TrainConfig = {
  ...defaultTrainConfig,
  lr: 0.05,
  schedule: 'constant',
  steps: 16,
  batchSize: 3,
  seqLen: 32,
  evalEvery: 1,
  earlyStoppingPatience: 2,
};

async function setup() {
  const runtime = await testRuntime();
  const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles({ family: 'llama', seed: 4 })));
  const model = await createDecoderModel(runtime, checkpoint, 'lora');
  const lora = () =>
    new LoraAdaptation(runtime, model, { r: 4, alpha: 8, targetModules: 'all-linear', seed: 9 });
  const read = (a: LoraAdaptation) =>
    Promise.all(a.trainable().map((e) => downloadTensor(runtime.arena, e.param)));
  return { runtime, model, lora, read };
}

async function drain(trainer: Trainer): Promise<TrainEvent[]> {
  const events: TrainEvent[] = [];
  for await (const event of trainer.run()) events.push(event);
  return events;
}

describe('early stopping', () => {
  it('stops after its patience and ends on the best weights, as a run stopped there', async () => {
    const { runtime, model, lora, read } = await setup();
    const stopping = lora();
    const events = await drain(new Trainer(runtime, model, stopping, config, train, validation));
    const evals = events.filter((e): e is EvalEvent => e.kind === 'eval');
    const last = evals.at(-1)?.earlyStopping;
    // It stopped before step 16, two evaluations after its best.
    expect(last?.stop).toBe(true);
    const bestStep = last?.bestStep as number;
    expect(evals.at(-1)?.step).toBe(bestStep + 2);
    expect(evals.at(-1)?.step).toBeLessThan(16);
    const losses = evals.map((e) => e.loss);
    expect(last?.bestLoss).toBe(Math.min(...losses));
    expect(losses[bestStep - 1]).toBe(last?.bestLoss);

    const plain = lora();
    const { earlyStoppingPatience: _, ...noStopping } = config;
    await drain(new Trainer(runtime, model, plain, { ...noStopping, steps: bestStep }, train, validation));
    expect(await read(stopping)).toEqual(await read(plain));
  });

  it('resumes from a mid-run checkpoint to the same end', async () => {
    const { runtime, model, lora, read } = await setup();
    const straight = lora();
    const events = await drain(new Trainer(runtime, model, straight, config, train, validation));
    const bestStep = events.filter((e): e is EvalEvent => e.kind === 'eval').at(-1)?.earlyStopping?.bestStep;

    // Checkpointed one evaluation after the best: the best weights the run ends on come from the checkpoint.
    const first = lora();
    const trainer = new Trainer(runtime, model, first, config, train, validation);
    for await (const event of trainer.run())
      if (event.kind === 'eval' && event.step === (bestStep as number) + 1) break;
    const state = readCheckpoint(checkpointFiles(await trainer.checkpoint()));
    expect(state.position.earlyStopping).toMatchObject({ bestStep, evaluationsWithoutImprovement: 1 });

    const resumed = lora();
    const again = new Trainer(runtime, model, resumed, config, train, validation);
    again.resume(state);
    await drain(again);
    expect(await read(resumed)).toEqual(await read(straight));
  });

  it('is refused without evaluations to compare', async () => {
    const { runtime, model, lora } = await setup();
    expect(() => new Trainer(runtime, model, lora(), config, train, [])).toThrow(/no validation set/);
    expect(() => new Trainer(runtime, model, lora(), { ...config, evalEvery: 0 }, train, validation)).toThrow(
      /set how often to evaluate/,
    );
  });
});
