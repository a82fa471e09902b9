/**
 * DPO through the worker's engine on a real GPU (Dawn), in-thread: a spec with `train.preference` and a
 * preference JSONL file trains LoRA on its pairs, starting at log 2 (the adapter starts as the base, so
 * policy and reference agree), sends the rewards with every step and evaluation, exports its adapter, and
 * resumes from the checkpoint it sent with the same losses as the uninterrupted run; a DPO spec on a chat
 * file fails by name before anything reaches the GPU.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { defaultTrainConfig } from '../train-config';
import { createHandler } from './handler';
import type { WorkerMessage } from './protocol';
import { openRun } from './run-engine';
import type { RunSpec } from './run-spec';
import { MessageClient } from './training-client';

const modelFiles = Object.fromEntries(
  Object.entries(tinyModelFiles({ family: 'llama', hiddenSize: 32, layers: 2 })).map(([name, value]) => [
    name,
    typeof value === 'string' ? new TextEncoder().encode(value) : value,
  ]),
);

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');
const pairs = Array.from({ length: 10 }, (_, i) => ({
  prompt: `count ${i}:`,
  chosen: ` ${i + 1} ${i + 2}`,
  rejected: ` no no`,
}));

const dpoSpec = (text: string, steps: number): RunSpec => ({
  modelFiles,
  modelName: 'tiny-llama',
  method: { method: 'lora', r: 4, alpha: 8, dropout: 0 },
  train: {
    ...defaultTrainConfig,
    steps,
    batchSize: 2,
    seqLen: 32,
    lr: 2e-2,
    evalEvery: 2,
    preference: { beta: 0.5 },
  },
  data: {
    file: { blob: new Blob([text]), fileName: 'pairs.jsonl', skipBadRows: false },
    validationFraction: 0.2,
  },
});

function engine() {
  const seen: WorkerMessage[] = [];
  let client: MessageClient;
  const handle = createHandler({
    post: (message) => {
      seen.push(message);
      client.receive(message);
    },
    runtime: testRuntime,
    openRun,
    now: () => performance.now(),
  });
  client = new MessageClient((request) => void handle(request));
  const ended = (runId: string) =>
    new Promise<void>((resolve, reject) =>
      client.onEvent((e) => {
        if (e.kind === 'error' && e.runId === runId) reject(new Error(`${e.name}: ${e.message}`));
        if (e.kind === 'run-finished' && e.runId === runId) resolve();
      }),
    );
  const of = (runId: string) => ({
    steps: seen.flatMap((m) => (m.kind === 'progress' && m.runId === runId ? [m.progress] : [])),
    evals: seen.flatMap((m) => (m.kind === 'eval' && m.runId === runId ? [m] : [])),
    checkpoints: seen.flatMap((m) => (m.kind === 'checkpoint' && m.runId === runId ? [m] : [])),
    files: seen.flatMap((m) => (m.kind === 'run-finished' && m.runId === runId ? [m.files] : [])),
    /** Every message of the run, in order, by kind. */
    kinds: seen.flatMap((m) => ('runId' in m && m.runId === runId ? [m.kind] : [])),
    preparing: seen.flatMap((m) => (m.kind === 'preparing' && m.runId === runId ? [[m.done, m.total]] : [])),
  });
  return { client, ended, of };
}

describe('DPO in the worker engine', () => {
  it('trains LoRA on preference pairs from a file, with rewards, and resumes from its checkpoint', async () => {
    const { client, ended, of } = engine();
    const whole = ended('whole');
    await client.startRun('whole', { ...dpoSpec(jsonl(pairs), 4), checkpointEvery: 2 });
    await whole;
    const run = of('whole');
    expect(run.steps.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    // The reference pass over the 8 + 2 pairs, 2 a batch, is told before the first step.
    expect(run.preparing).toEqual([2, 4, 6, 8, 10].map((done) => [done, 10]));
    expect(run.kinds.lastIndexOf('preparing')).toBeLessThan(run.kinds.indexOf('progress'));
    expect(run.steps[0]?.loss).toBeCloseTo(Math.LN2, 4);
    expect(run.steps[0]?.preference?.rewardMargin).toBeCloseTo(0, 4);
    for (const p of run.steps) expect(p.preference?.rewardAccuracy).toBeGreaterThanOrEqual(0);
    // The pairs move the policy: the last step prefers the chosen responses more than the first did.
    expect(run.steps[3]?.preference?.rewardMargin).toBeGreaterThan(0);
    expect(run.evals.map((e) => e.step)).toEqual([2, 4]);
    for (const e of run.evals) expect(Object.keys(e.preference ?? {})).toContain('rewardAccuracy');
    expect(Object.keys(run.files[0] ?? {})).toContain('adapter_model.safetensors');

    expect(run.checkpoints.map((c) => c.step)).toEqual([2]);
    const resumed = ended('resumed');
    await client.startRun('resumed', {
      ...dpoSpec(jsonl(pairs), 4),
      resumeFrom: run.checkpoints[0]?.checkpoint,
    });
    await resumed;
    const again = of('resumed');
    expect(again.steps.map((p) => p.step)).toEqual([3, 4]);
    // The checkpoint holds the references: a resumed run has no reference pass.
    expect(again.preparing).toEqual([]);
    for (const [i, step] of [3, 4].entries()) {
      expect(again.steps[i]?.loss).toBeCloseTo(run.steps[step - 1]?.loss as number, 5);
      expect(again.steps[i]?.preference?.rewardMargin).toBeCloseTo(
        run.steps[step - 1]?.preference?.rewardMargin as number,
        5,
      );
    }
  }, 240_000);

  it('refuses a DPO run on a chat file by name', async () => {
    const { client } = engine();
    const chat = [
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
      },
    ];
    await expect(client.startRun('chat', dpoSpec(jsonl(chat), 2))).rejects.toMatchObject({
      name: 'PreferenceDataError',
    });
  }, 60_000);
});
