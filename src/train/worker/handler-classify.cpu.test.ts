/**
 * The handler's routing of classification requests, without a GPU: `classify` on a language-model run
 * or on a decoder's files and `generate` on an encoder classifier's files are refused by name
 * (TaskMismatchError), and a classification run's eval events reach the client with their scores (a
 * language model's with early stopping's verdict).
 */
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../gpu/runtime';
import type { EarlyStoppingVerdict } from '../early-stopping';
import { createHandler } from './handler';
import type { ClassificationScores } from './protocol';
import type { EngineEvent, OpenedRun } from './run-engine';
import type { RunSpec } from './run-spec';
import { MessageClient, type RunEvent } from './training-client';

const scores: ClassificationScores = {
  accuracy: 0.75,
  f1: 0.8,
  f1Kind: 'binary',
  confusion: [
    [1, 1],
    [0, 2],
  ],
  labels: ['0', '1'],
  count: 4,
};

/** A one-step run whose eval event carries `extras` (a classification run's scores, early stopping's verdict). */
function fakeRun(
  extras: { classification?: ClassificationScores; earlyStopping?: EarlyStoppingVerdict } = {},
): OpenedRun {
  async function* events(): AsyncGenerator<EngineEvent> {
    yield {
      kind: 'step',
      step: 1,
      epoch: 1,
      loss: 1,
      lr: 1,
      gradNorm: 1,
      tokens: 1,
      stepTimeMs: 1,
      tokensPerSecond: 1,
      gpuBytes: 1,
      peakGpuBytes: 1,
      trainableParams: 1,
      totalParams: 2,
    };
    yield { kind: 'eval', step: 1, loss: 0.5, tokens: 3, ...extras };
  }
  return {
    trainer: { totalSteps: 1, parameterCounts: () => ({ trainable: 1, total: 2 }) },
    events: events(),
    export: async () => ({}),
    text: () => {
      throw new Error('not used');
    },
    checkpoint: () => Promise.reject(new Error('not used')),
    release: () => 0,
  };
}

const bytes = (json: object) => new TextEncoder().encode(JSON.stringify(json));

function setup(run: OpenedRun) {
  let client: MessageClient;
  const handle = createHandler({
    post: (message) => client.receive(message),
    runtime: async () => ({}) as Runtime,
    openRun: async () => run,
    now: () => 0,
  });
  client = new MessageClient((request) => void handle(request));
  const events: RunEvent[] = [];
  const finished = new Promise<void>((resolve) =>
    client.onEvent((event) => {
      events.push(event);
      if (event.kind === 'run-finished') resolve();
    }),
  );
  return { client, events, finished };
}

describe('classification requests in the training worker handler', () => {
  it('refuses classify on a language-model run, and on a decoder model, by name', async () => {
    const { client, finished } = setup(fakeRun());
    await client.startRun('lm', { modelName: 'lm' } as RunSpec);
    await finished;
    await expect(client.classify({ kind: 'run', runId: 'lm' }, { text: 'a' })).rejects.toMatchObject({
      name: 'TaskMismatchError',
      message: expect.stringContaining('Use generate instead of classify'),
    });
    const decoder = { 'config.json': bytes({ model_type: 'llama' }) };
    await expect(
      client.classify({ kind: 'base', modelName: 'tiny-llama', modelFiles: decoder }, { text: 'a' }),
    ).rejects.toMatchObject({
      name: 'TaskMismatchError',
      message: expect.stringContaining('llama language model'),
    });
  });

  it('refuses generate on an encoder classifier by name', async () => {
    const { client } = setup(fakeRun());
    const encoder = { 'config.json': bytes({ model_type: 'bert' }) };
    const settings = { maxNewTokens: 2, temperature: 0, topK: 0, topP: 1, seed: 0 };
    await expect(
      client.generate(
        { kind: 'base', modelName: 'tiny-bert', modelFiles: encoder },
        { text: 'a', template: 'none' },
        settings,
      ),
    ).rejects.toMatchObject({ name: 'TaskMismatchError' });
  });

  it('forwards a classification run’s scores on its eval events', async () => {
    const { client, events, finished } = setup(fakeRun({ classification: scores }));
    await client.startRun('cls', { modelName: 'cls', task: 'classification' } as RunSpec);
    await finished;
    expect(events.find((e) => e.kind === 'eval')).toEqual({
      kind: 'eval',
      runId: 'cls',
      step: 1,
      loss: 0.5,
      classification: scores,
    });
  });

  it('forwards early stopping’s verdict on a language model’s eval events', async () => {
    const earlyStopping = { bestLoss: 0.4, bestStep: 1, improved: true, stop: false };
    const { client, events, finished } = setup(fakeRun({ earlyStopping }));
    await client.startRun('lm', { modelName: 'lm' } as RunSpec);
    await finished;
    expect(events.find((e) => e.kind === 'eval')).toEqual({
      kind: 'eval',
      runId: 'lm',
      step: 1,
      loss: 0.5,
      earlyStopping,
    });
  });
});
