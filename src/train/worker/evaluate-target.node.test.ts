/**
 * Scoring a kept adapter on a run's validation split, on a real GPU (Dawn), through the worker's
 * message handler: a LoRA run trains on a file's examples with a seeded held-out split, exports its PEFT
 * folder, and that folder, opened again as an adapter on the base model, scores exactly the run's own
 * final validation loss (the split rebuilt from the spec, the Trainer's evaluation). A different adapter
 * (the same weights at twice the LoRA scale) scores a different loss, so the equality is not vacuous.
 * A DPO run's exported adapter scores the run's own last DPO loss, reward accuracy and margin on its
 * validation pairs, the base model as the reference (a reference with the adapter on would give a margin
 * of 0 and a loss of log 2).
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import type { Example } from '../data/examples';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { defaultTrainConfig } from '../train-config';
import { createHandler } from './handler';
import type { EvaluationData, GenerateTarget } from './protocol';
import { openRun, openScoringModel } from './run-engine';
import type { RunSpec } from './run-spec';
import { MessageClient, type RunEvent } from './training-client';

const modelFiles = Object.fromEntries(
  Object.entries(tinyModelFiles({ family: 'llama', hiddenSize: 32, layers: 2 })).map(([name, value]) => [
    name,
    typeof value === 'string' ? new TextEncoder().encode(value) : value,
  ]),
);

const texts = [
  'the quick brown fox',
  'jumps over the lazy dog',
  'again and again',
  'a stitch in time',
  'saves nine more',
  'the early bird',
  'catches the worm',
  'every cloud has a silver lining',
];
const examples: Example[] = texts.map((text, i) => ({ kind: 'text', line: i + 1, text }));
const pairs = Array.from({ length: 10 }, (_, i) => ({
  prompt: `count ${i}:`,
  chosen: ` ${i + 1} ${i + 2}`,
  rejected: ' no no',
}));

const spec: RunSpec = {
  modelFiles,
  modelName: 'tiny-llama',
  method: { method: 'lora', r: 4, alpha: 8, dropout: 0 },
  train: { ...defaultTrainConfig, steps: 3, batchSize: 2, seqLen: 32, lr: 2e-2, seed: 7 },
  data: { examples, validationFraction: 0.25 },
};

const adapter = (adapterFiles: Record<string, Uint8Array>, key: string): GenerateTarget => ({
  kind: 'adapter',
  key,
  modelName: 'tiny-llama',
  modelFiles,
  adapterFiles,
});

/** The worker's handler in-thread, one run trained to its end: its files and its evaluations. */
async function trainedRun(runId: string, runSpec: RunSpec) {
  let client: MessageClient;
  const handle = createHandler({
    post: (message) => client.receive(message),
    runtime: testRuntime,
    openRun,
    openScoring: openScoringModel,
    now: () => performance.now(),
  });
  client = new MessageClient((request) => void handle(request));
  const evals: Extract<RunEvent, { kind: 'eval' }>[] = [];
  const finished = new Promise<Extract<RunEvent, { kind: 'run-finished' }>>((resolve, reject) => {
    client.onEvent((event) => {
      if (event.kind === 'error') reject(new Error(`${event.name}: ${event.message}`));
      if (event.kind === 'eval') evals.push(event);
      if (event.kind === 'run-finished') resolve(event);
    });
  });
  await client.startRun(runId, runSpec);
  const { files } = await finished;
  const { modelFiles: _files, method: _method, ...kept } = runSpec;
  const data: EvaluationData = { runId, spec: kept };
  return { client, files, evals, data };
}

describe('scoring an adapter on a run’s validation split', () => {
  it('scores the run’s own exported adapter at the run’s final eval loss, and another adapter differently', async () => {
    const { client, files, evals, data } = await trainedRun('lora', spec);
    const runFinalLoss = evals.at(-1)?.loss as number;
    expect(Number.isFinite(runFinalLoss)).toBe(true);

    const own = await client.evaluate(adapter(files, 'own'), data);
    expect(own.runId).toBe('lora');
    expect(own.examples).toBe(2);
    expect(Math.abs(own.loss - runFinalLoss)).toBeLessThan(1e-5);

    // The run itself, as it stands in the worker, scores the same.
    const run = await client.evaluate({ kind: 'run', runId: 'lora' }, data);
    expect(Math.abs(run.loss - runFinalLoss)).toBeLessThan(1e-5);

    // Same weights, twice the scale (lora_alpha doubled): a different adapter, a different loss.
    const config = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
    const doubled = {
      ...files,
      'adapter_config.json': new TextEncoder().encode(
        JSON.stringify({ ...config, lora_alpha: config.lora_alpha * 2 }),
      ),
    };
    const other = await client.evaluate(adapter(doubled, 'doubled'), data);
    expect(Number.isFinite(other.loss)).toBe(true);
    expect(Math.abs(other.loss - runFinalLoss)).toBeGreaterThan(1e-3);
  }, 240_000);

  it('scores a DPO run’s exported adapter at the run’s last DPO loss and rewards, against the base model', async () => {
    const jsonl = pairs.map((p) => JSON.stringify(p)).join('\n');
    const dpo: RunSpec = {
      ...spec,
      train: { ...spec.train, steps: 2, evalEvery: 2, preference: { beta: 0.5 } },
      data: {
        file: { blob: new Blob([jsonl]), fileName: 'pairs.jsonl', skipBadRows: false },
        validationFraction: 0.2,
      },
    };
    const { client, files, evals, data } = await trainedRun('dpo', dpo);
    const last = evals.at(-1);
    expect(last?.preference).toBeDefined();

    const scored = await client.evaluate(adapter(files, 'dpo'), data);
    expect(scored.examples).toBe(2);
    expect(Math.abs(scored.loss - (last?.loss as number))).toBeLessThan(1e-4);
    expect(scored.preference?.rewardAccuracy).toBe(last?.preference?.rewardAccuracy);
    expect(
      Math.abs((scored.preference?.rewardMargin as number) - (last?.preference?.rewardMargin as number)),
    ).toBeLessThan(1e-4);
    // The reference is the base model, not the adapter: the trained policy has moved away from it.
    expect(Math.abs(scored.preference?.rewardMargin as number)).toBeGreaterThan(1e-3);
    expect(Math.abs(scored.loss - Math.LN2)).toBeGreaterThan(1e-4);
  }, 120_000);
});
