/**
 * The handler asks classification runs for checkpoints as it asks language-model runs: every
 * `checkpointEvery` updates, before the last, each posted with its step (a two-update fake run whose
 * checkpoint carries its update count).
 */
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../gpu/runtime';
import type { CheckpointState } from '../checkpoint-state';
import { defaultTrainConfig } from '../train-config';
import { createHandler } from './handler';
import type { EngineEvent, OpenedRun } from './run-engine';
import type { RunSpec } from './run-spec';
import { MessageClient, type RunEvent } from './training-client';

function twoUpdateRun(): OpenedRun {
  let done = 0;
  async function* events(): AsyncGenerator<EngineEvent> {
    for (const step of [1, 2]) {
      done = step;
      yield {
        kind: 'step',
        step,
        epoch: 1,
        loss: 1 / step,
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
    }
  }
  return {
    trainer: { totalSteps: 2, parameterCounts: () => ({ trainable: 1, total: 2 }) },
    events: events(),
    export: async () => ({}),
    text: () => {
      throw new Error('not used');
    },
    checkpoint: async (): Promise<CheckpointState> => ({
      position: { step: done, epoch: 1, queue: [] },
      config: defaultTrainConfig,
      method: 'lora',
      tensors: new Map(),
    }),
    release: () => 0,
  };
}

describe('checkpoints of a classification run in the training worker handler', () => {
  it('posts one every checkpointEvery updates, before the last', async () => {
    let client: MessageClient;
    const handle = createHandler({
      post: (message) => client.receive(message),
      runtime: async () => ({}) as Runtime,
      openRun: async () => twoUpdateRun(),
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
    await client.startRun('cls', { modelName: 'cls', task: 'classification', checkpointEvery: 1 } as RunSpec);
    await finished;
    const posted = events.flatMap((e) =>
      e.kind === 'checkpoint' ? [[e.step, e.checkpoint.position.step]] : [],
    );
    expect(posted).toEqual([[1, 1]]);
  });
});
