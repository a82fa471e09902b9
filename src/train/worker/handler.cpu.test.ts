import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../gpu/runtime';
import type { TrainEvent } from '../trainer';
import { createHandler } from './handler';
import type { WorkerMessage } from './protocol';
import type { OpenedRun } from './run-engine';
import type { RunSpec } from './run-spec';
import { MessageClient } from './training-client';

/** A fake run that yields `steps` step events, as the trainer does, without a GPU. */
function fakeRun(steps: number, failAt?: number): OpenedRun {
  async function* events(): AsyncGenerator<TrainEvent> {
    for (let step = 1; step <= steps; step++) {
      await Promise.resolve();
      if (step === failAt) throw new RangeError(`exploded at step ${step}`);
      yield {
        kind: 'step',
        step,
        epoch: 0,
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
    trainer: {
      totalSteps: steps,
      parameterCounts: () => ({ trainable: 1, total: 2 }),
    } as OpenedRun['trainer'],
    events: events(),
    export: async () => ({ 'adapter_config.json': new Uint8Array([1]) }),
  };
}

function setup(runs: Record<string, OpenedRun>) {
  const seen: WorkerMessage[] = [];
  let client: MessageClient;
  const handle = createHandler({
    post: (message) => {
      seen.push(message);
      client.receive(message);
    },
    runtime: async () => ({ gpu: { report: { vendor: 'fake' } } }) as unknown as Runtime,
    openRun: async (_rt, spec) => runs[spec.modelName] as OpenedRun,
    now: () => 0,
  });
  client = new MessageClient((request) => void handle(request));
  return { client, seen };
}

const spec = (name: string) => ({ modelName: name }) as RunSpec;

describe('training worker handler', () => {
  it('answers each request with its reply, matched by id', async () => {
    const { client } = setup({ a: fakeRun(1) });
    expect((await client.probe()).vendor).toBe('fake');
    expect(await client.startRun('run-a', spec('a'))).toEqual({
      totalSteps: 1,
      trainableParams: 1,
      totalParams: 2,
    });
  });

  it('gives two runs fair turns on the one device', async () => {
    const { client, seen } = setup({ sft: fakeRun(3), lora: fakeRun(3) });
    const done = new Promise<void>((resolve) => {
      let finished = 0;
      client.onEvent((e) => {
        if (e.kind === 'run-finished' && ++finished === 2) resolve();
      });
    });
    await client.startRun('sft', spec('sft'));
    await client.startRun('lora', spec('lora'));
    await done;
    const order = seen
      .filter((m) => m.kind === 'progress')
      .map((m) => (m.kind === 'progress' ? `${m.runId}${m.progress.step}` : ''));
    expect(order).toEqual(['sft1', 'lora1', 'sft2', 'lora2', 'sft3', 'lora3']);
  });

  it('reports a failing run by name and message, and keeps serving others', async () => {
    const { client } = setup({ bad: fakeRun(3, 2), good: fakeRun(2) });
    const events: { kind: string; runId?: string; name?: string }[] = [];
    const settled = new Promise<void>((resolve) => {
      client.onEvent((e) => {
        events.push(e);
        if (e.kind === 'run-finished') resolve();
      });
    });
    await client.startRun('bad', spec('bad'));
    await client.startRun('good', spec('good'));
    await settled;
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'error', runId: 'bad', name: 'RangeError' }),
    );
    expect(events).toContainEqual(expect.objectContaining({ kind: 'run-finished', runId: 'good' }));
  });
});
