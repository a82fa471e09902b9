/**
 * Gradient accumulation and checkpoint/resume of classification runs.
 * - Accumulation: two SGD updates on the same 4 rows, as one batch of 4 or as 2 micro-batches of 2
 *   accumulated, leave the same weights (every trainable tensor, 1e-5), for full fine-tuning and LoRA
 *   (dropout off, so the two differ only in how the gradient is summed). A fresh LoRA B is zero, so the
 *   first update moves only B and the head; the second moves A too, so A is compared as well.
 * - Resume: a studio run (LoRA with dropout 0.1 and the model's dropout, AdamW, shuffled, 2 micro-batches
 *   per update, the order crossing an epoch's end) stopped after update 4, written as checkpoint files
 *   and read back, then resumed in a fresh run, gives the uninterrupted run's losses, evaluations and
 *   final trainable tensors and moments (1e-6); a checkpoint of other settings (a training setting, or
 *   the method's own, such as LoRA's rank) is refused by name.
 */
import { describe, expect, it } from 'vitest';
import { downloadTensor } from '../../gpu/tensor';
import { seededRandom } from '../../gpu/testing/random';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { type CheckpointState, checkpointFiles, readCheckpoint } from '../checkpoint-state';
import { builtInClassifierFiles, builtInClassifierName, tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel } from '../models/bert';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import { defaultTrainConfig } from '../train-config';
import type { EngineEvent } from '../worker/run-engine';
import type { MethodSpec, RunSpec } from '../worker/run-spec';
import { classifierMethodFromSpec } from './classifier-method';
import { openClassifierRun } from './classifier-run';
import { type ClassificationExample, ClassifierTrainer } from './classifier-trainer';

const T = 8;

/** Four rows of different lengths over the tiny vocabulary, two per class. */
function rows(): ClassificationExample[] {
  const random = seededRandom(11);
  return [8, 6, 7, 5].map((length, i) => {
    const ids = Array.from({ length }, (_, t) =>
      t === 0 ? 2 : t === length - 1 ? 3 : 4 + Math.floor(random() * 40),
    );
    return { ids, tokenTypes: ids.map((_, t) => (t > length / 2 ? 1 : 0)), label: i % 2 };
  });
}

/** Every trainable tensor after two SGD updates on `rows()` as `micro` micro-batches. */
async function trainedWeights(method: MethodSpec, micro: number): Promise<Map<string, Float32Array>> {
  const runtime = await testRuntime();
  const checkpoint = await openEncoderCheckpoint(
    filesFromMemory(
      tinyEncoderFiles({
        family: 'bert',
        layers: 1,
        heads: 2,
        hiddenSize: 16,
        intermediateSize: 32,
        seed: 5,
      }),
    ),
    { seed: 1 },
  );
  const model = await createEncoderModel(runtime, checkpoint);
  const { adaptation } = await classifierMethodFromSpec(runtime, model, method, 1, checkpoint.initialised);
  const B = 4 / micro;
  const trainer = await ClassifierTrainer.create(runtime, model, adaptation, {
    batchSize: B,
    gradAccum: micro,
    T,
    optimizer: 'sgd',
    hyper: { lr: method.method === 'full' ? 0.1 : 0.5, maxGradNorm: 0, weightDecay: 0 },
    schedule: 'constant',
    padId: 0,
  });
  const data = rows();
  const batches = Array.from({ length: micro }, (_, m) => data.slice(m * B, (m + 1) * B));
  const losses = [await trainer.update(batches, 2), await trainer.update(batches, 2)];
  expect(losses[1]).toBeLessThan(losses[0] as number);
  const out = new Map<string, Float32Array>();
  for (const e of adaptation.trainable()) out.set(e.name, await downloadTensor(runtime.arena, e.param));
  return out;
}

function expectClose(got: Float32Array, want: Float32Array, tolerance: number, name: string): void {
  expect(got.length, name).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
  expect(worst, `${name}: largest difference`).toBeLessThanOrEqual(tolerance);
}

describe('gradient accumulation of a classifier', () => {
  for (const method of [{ method: 'full' }, { method: 'lora', r: 4, alpha: 8, dropout: 0 }] as MethodSpec[]) {
    it(`batch 4 equals 2 micro-batches of 2 (${method.method})`, async () => {
      const whole = await trainedWeights(method, 1);
      const accumulated = await trainedWeights(method, 2);
      expect([...accumulated.keys()]).toEqual([...whole.keys()]);
      if (method.method === 'lora') expect([...whole.keys()].some((k) => /classifier/.test(k))).toBe(true);
      for (const [name, want] of whole) expectClose(accumulated.get(name) as Float32Array, want, 1e-5, name);
    }, 60_000);
  }
});

/** MRPC's layout; Quality 1 when the first sentence names an animal. */
function mrpcTsv(count: number): string {
  const random = seededRandom(3);
  const lines = Array.from({ length: count }, (_, i) => {
    const x = i % 2 === 0 ? (random() < 0.5 ? 'cat' : 'dog') : 'mat';
    const y = ['cat', 'dog', 'mat'][Math.floor(random() * 3)] as string;
    return `${x === 'mat' ? 0 : 1}\t${1000 + i}\t${2000 + i}\tThe ${x} sat .\tOn the ${y} !`;
  });
  return `Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n${lines.join('\n')}\n`;
}

const spec: RunSpec = {
  task: 'classification',
  modelFiles: builtInClassifierFiles(),
  modelName: builtInClassifierName,
  method: { method: 'lora', r: 4, alpha: 8, dropout: 0.1 },
  // 12 training rows in micro-batches of 2, 2 per update: 3 updates per epoch, 6 in all.
  train: { ...defaultTrainConfig, lr: 1e-2, epochs: 2, batchSize: 2, gradAccum: 2, seqLen: 16, seed: 4 },
  data: {
    file: { blob: new Blob([mrpcTsv(16)]), fileName: 'msr_paraphrase_train.txt' },
    validationFraction: 0.25,
  },
};

/** The run's events (up to and including update `stopAt`), then its checkpoint as written and read back. */
async function runClassifier(given: RunSpec, stopAt?: number) {
  const runtime = await testRuntime();
  const opened = await openClassifierRun(runtime, given, new AbortController().signal);
  const events: EngineEvent[] = [];
  for await (const event of opened.events) {
    events.push(event);
    if (event.kind === 'step' && event.step === stopAt) break;
  }
  const checkpoint = readCheckpoint(checkpointFiles(await opened.checkpoint()));
  opened.release();
  return { events, checkpoint, totalSteps: opened.trainer.totalSteps };
}

const stepLosses = (events: EngineEvent[]) =>
  events.flatMap((e) => (e.kind === 'step' ? [[e.step, e.loss, e.lr, e.gradNorm]] : []));
const evalLosses = (events: EngineEvent[]) =>
  events.flatMap((e) => (e.kind === 'eval' ? [[e.step, e.loss]] : []));

describe('checkpoint and resume of a classification run', () => {
  it('resumed at update 4, gives the uninterrupted run exactly', async () => {
    const full = await runClassifier(spec);
    expect(full.totalSteps).toBe(6);
    expect(stepLosses(full.events).map(([s]) => s)).toEqual([1, 2, 3, 4, 5, 6]);
    // Evaluations at each epoch's end.
    expect(evalLosses(full.events).map(([s]) => s)).toEqual([3, 6]);

    const stopped = await runClassifier(spec, 4);
    const saved: CheckpointState = stopped.checkpoint;
    expect(saved.position.step).toBe(4);
    expect(saved.position.queue.length).toBe(4);
    expect(saved.method).toBe('lora');
    expect([...saved.tensors.keys()].some((k) => k.startsWith('param:') && /classifier/.test(k))).toBe(true);
    expect([...saved.tensors.keys()].some((k) => k.startsWith('exp_avg_sq:'))).toBe(true);
    const resumed = await runClassifier({ ...spec, resumeFrom: saved });

    const together = [...stepLosses(stopped.events), ...stepLosses(resumed.events)];
    expect(together.map(([s]) => s)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const [i, want] of stepLosses(full.events).entries())
      expectClose(
        Float32Array.from(together[i] as number[]),
        Float32Array.from(want),
        1e-6,
        `update ${i + 1}`,
      );
    expect(evalLosses(resumed.events).map(([s]) => s)).toEqual([6]);
    expect(evalLosses(resumed.events)[0]?.[1]).toBeCloseTo(evalLosses(full.events)[1]?.[1] as number, 6);
    expect([...resumed.checkpoint.tensors.keys()]).toEqual([...full.checkpoint.tensors.keys()]);
    for (const [name, want] of full.checkpoint.tensors)
      expectClose(resumed.checkpoint.tensors.get(name)?.data as Float32Array, want.data, 1e-6, name);
    // The updates after the checkpoint moved the weights, so matching the end is not matching the start.
    const head = [...saved.tensors.keys()].find((k) => k.startsWith('param:')) as string;
    expect(saved.tensors.get(head)?.data).not.toEqual(full.checkpoint.tensors.get(head)?.data);

    // Other settings would give a run that neither describes: refused, naming the setting.
    await expect(
      openClassifierRun(
        await testRuntime(),
        { ...spec, train: { ...spec.train, lr: 2e-2 }, resumeFrom: saved },
        new AbortController().signal,
      ),
    ).rejects.toThrow(/lr \(checkpoint 0\.01, now 0\.02\)/);
    // So would another LoRA rank: the method's settings are in the checkpoint too.
    expect(saved.methodSettings).toMatchObject({ r: 4, alpha: 8, dropout: 0.1 });
    await expect(
      openClassifierRun(
        await testRuntime(),
        { ...spec, method: { ...spec.method, r: 8 } as MethodSpec, resumeFrom: saved },
        new AbortController().signal,
      ),
    ).rejects.toThrow(/other lora settings: r \(checkpoint 4, now 8\)/);
  }, 120_000);
});
