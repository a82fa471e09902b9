import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../gpu/runtime';
import type { TrainEvent } from '../trainer';
import { createHandler } from './handler';
import type { WorkerMessage } from './protocol';
import type { OpenedRun } from './run-engine';
import type { RunSpec } from './run-spec';
import type { TextSource } from './text-source';
import { MessageClient } from './training-client';

/** A fake run that yields `steps` step events, as the trainer does, without a GPU. */
function fakeRun(steps: number, failAt?: number, held = 0): OpenedRun {
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
    text: () => fakeText(`run${steps}`),
    checkpoint: async () => ({ position: { step: -1, epoch: 0, queue: [] }, method: 'fake' }) as never,
    release: () => {
      const freed = held;
      held = 0;
      return freed;
    },
  };
}

/** A fake model that "generates" the characters of `reply`, one per token, then stops. */
function fakeText(reply: string): TextSource {
  return {
    promptIds: (prompt) => ({ ids: [...prompt.text].map((c) => c.charCodeAt(0)), templated: false }),
    async *tokens(_ids, settings) {
      for (const c of reply.slice(0, settings.maxNewTokens)) {
        await Promise.resolve();
        yield c.charCodeAt(0);
      }
    },
    decode: (ids) => String.fromCharCode(...ids),
  };
}

function setup(runs: Record<string, OpenedRun>) {
  const seen: WorkerMessage[] = [];
  const adapterOpens: string[] = [];
  let client: MessageClient;
  const handle = createHandler({
    post: (message) => {
      seen.push(message);
      client.receive(message);
    },
    runtime: async () => ({ gpu: { report: { vendor: 'fake' } } }) as unknown as Runtime,
    openRun: async (_rt, spec) => runs[spec.modelName] as OpenedRun,
    openBase: async (_rt, _files, name) => fakeText(`base:${name}`),
    openAdapter: async (_rt, _files, name, adapter) => {
      adapterOpens.push(name);
      return fakeText(`kept:${Object.keys(adapter).join()}`);
    },
    now: () => 0,
  });
  client = new MessageClient((request) => void handle(request));
  return { client, seen, adapterOpens };
}

const spec = (name: string) => ({ modelName: name }) as RunSpec;

const progressOrder = (seen: WorkerMessage[]) =>
  seen.flatMap((m) => (m.kind === 'progress' ? [`${m.runId}${m.progress.step}`] : []));

const settings = { maxNewTokens: 4, temperature: 0, topK: 0, topP: 1, seed: 0 };

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

  it("sends a DPO run's rewards with its steps and evaluations, and none for SFT", async () => {
    const rewards = (accuracy: number) => ({
      chosenReward: 0.2,
      rejectedReward: -0.1,
      rewardAccuracy: accuracy,
      rewardMargin: 0.3,
      chosenLogp: -5,
      rejectedLogp: -7,
    });
    const dpo = fakeRun(0);
    dpo.events = (async function* (): AsyncGenerator<TrainEvent> {
      for await (const step of fakeRun(2).events)
        if (step.kind === 'step') yield { ...step, preference: rewards(step.step / 2) };
      yield { kind: 'eval', step: 2, loss: 0.6, tokens: 3, preference: rewards(0.75) };
    })();
    const { client, seen } = setup({ dpo, sft: fakeRun(1) });
    const finished = new Promise<void>((resolve) => {
      let ended = 0;
      client.onEvent((e) => {
        if (e.kind === 'run-finished' && ++ended === 2) resolve();
      });
    });
    await client.startRun('dpo', spec('dpo'));
    await client.startRun('sft', spec('sft'));
    await finished;
    const progress = seen.flatMap((m) => (m.kind === 'progress' ? [m] : []));
    expect(progress.filter((m) => m.runId === 'dpo').map((m) => m.progress.preference)).toEqual([
      rewards(0.5),
      rewards(1),
    ]);
    expect(progress.find((m) => m.runId === 'sft')?.progress).not.toHaveProperty('preference');
    expect(seen.find((m) => m.kind === 'eval')).toEqual({
      kind: 'eval',
      runId: 'dpo',
      step: 2,
      loss: 0.6,
      preference: rewards(0.75),
    });
  });

  it('pauses one run while the other trains on, then resumes it where it was', async () => {
    const { client, seen } = setup({ a: fakeRun(4), b: fakeRun(4) });
    const ended: string[] = [];
    const bothDone = new Promise<void>((resolve) => {
      client.onEvent((e) => {
        if (e.kind === 'run-finished') ended.push(e.runId);
        if (ended.length === 2) resolve();
      });
    });
    const steps = (runId: string) => seen.filter((m) => m.kind === 'progress' && m.runId === runId).length;
    await client.startRun('a', spec('a'));
    await client.pauseRun('a');
    await client.startRun('b', spec('b'));
    // b runs to its end while a waits.
    await new Promise<void>((resolve) => {
      const off = client.onEvent((e) => {
        if (e.kind === 'run-finished' && e.runId === 'b') {
          off();
          resolve();
        }
      });
    });
    expect(steps('b')).toBe(4);
    const aBefore = steps('a');
    expect(aBefore).toBeLessThan(4);
    await client.resumeRun('a');
    await bothDone;
    expect(ended).toEqual(['b', 'a']);
    // a continued from where it paused: its steps are 1..4 once each, in order.
    expect(progressOrder(seen).filter((s) => s.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('answers a pause only once the step in flight and its checkpoint are sent', async () => {
    let release = () => {};
    const slowCheckpoint = new Promise<void>((resolve) => {
      release = resolve;
    });
    const run = fakeRun(10);
    const checkpoint = run.checkpoint;
    run.checkpoint = async () => {
      await slowCheckpoint;
      return checkpoint();
    };
    const { client, seen } = setup({ a: run });
    await client.startRun('a', { modelName: 'a', checkpointEvery: 1 } as RunSpec);
    // Step 1 is done and its checkpoint is being read when the pause comes.
    await new Promise<void>((resolve) => {
      const off = client.onEvent((e) => {
        if (e.kind === 'progress') {
          off();
          resolve();
        }
      });
    });
    const paused = client.pauseRun('a');
    await Promise.resolve();
    release();
    await paused;
    const kinds = seen.flatMap((m) =>
      m.kind === 'progress' || m.kind === 'checkpoint' || m.kind === 'run-paused' ? [m.kind] : [],
    );
    expect(kinds).toEqual(['progress', 'checkpoint', 'run-paused']);
  });

  it('stops a paused run: it ends stopped, with its files', async () => {
    const { client } = setup({ a: fakeRun(50) });
    const finished = new Promise<{ stopped: boolean; files: string[] }>((resolve) => {
      client.onEvent((e) => {
        if (e.kind === 'run-finished') resolve({ stopped: e.stopped, files: Object.keys(e.files) });
      });
    });
    await client.startRun('a', spec('a'));
    await client.pauseRun('a');
    await client.stopRun('a');
    expect(await finished).toEqual({ stopped: true, files: ['adapter_config.json'] });
  });

  it('streams text from a finished run and from a base model, token by token', async () => {
    const { client } = setup({ a: fakeRun(1) });
    const finished = new Promise<void>((resolve) => {
      client.onEvent((e) => e.kind === 'run-finished' && resolve());
    });
    await client.startRun('a', spec('a'));
    await finished;
    const texts: string[] = [];
    const fromRun = await client.generate(
      { kind: 'run', runId: 'a' },
      { text: 'hi', template: 'auto' },
      settings,
      (text) => texts.push(text),
    );
    expect(fromRun).toMatchObject({ text: 'run1', tokens: 4, promptTokens: 2, templated: false });
    expect(texts).toEqual(['r', 'ru', 'run', 'run1']);
    const fromBase = await client.generate(
      { kind: 'base', modelName: 'm', modelFiles: {} },
      { text: 'x', template: 'none' },
      { ...settings, maxNewTokens: 3 },
    );
    expect(fromBase.text).toBe('bas');
  });

  it('refuses to generate from a run still training, and from a run it does not know', async () => {
    const { client } = setup({ a: fakeRun(1000) });
    await client.startRun('a', spec('a'));
    await expect(
      client.generate({ kind: 'run', runId: 'a' }, { text: 'hi', template: 'auto' }, settings),
    ).rejects.toMatchObject({ name: 'GenerationError', message: expect.stringContaining('still training') });
    await expect(client.pauseRun('nope')).rejects.toMatchObject({ name: 'UnknownRunError' });
    await client.stopRun('a');
  });

  it('sends a checkpoint every N steps, and none after the last step', async () => {
    const { client, seen } = setup({ a: fakeRun(5) });
    const finished = new Promise<void>((resolve) => {
      client.onEvent((e) => e.kind === 'run-finished' && resolve());
    });
    await client.startRun('a', { ...spec('a'), checkpointEvery: 2 });
    await finished;
    const order = seen.flatMap((m) =>
      m.kind === 'progress' ? [`s${m.progress.step}`] : m.kind === 'checkpoint' ? [`c${m.step}`] : [],
    );
    expect(order).toEqual(['s1', 's2', 'c2', 's3', 's4', 'c4', 's5']);
  });

  it('opens a kept adapter once, even for prompts that arrive together', async () => {
    const { client, adapterOpens } = setup({});
    const target = {
      kind: 'adapter' as const,
      key: 'lib-1',
      modelName: 'm',
      modelFiles: {},
      adapterFiles: { 'adapter_config.json': new Uint8Array() },
    };
    const prompt = { text: 'hi', template: 'auto' as const };
    const [first, second] = await Promise.all([
      client.generate(target, prompt, { ...settings, maxNewTokens: 40 }),
      client.generate(target, prompt, { ...settings, maxNewTokens: 4 }),
    ]);
    expect(first.text).toBe('kept:adapter_config.json');
    expect(second.text).toBe('kept');
    expect(adapterOpens).toEqual(['m']);
  });

  it('releases an ended run: its bytes come back, and it no longer generates', async () => {
    const { client } = setup({ slow: fakeRun(50, undefined, 4096), done: fakeRun(1, undefined, 1000) });
    const finished = new Promise<void>((resolve) => {
      client.onEvent((e) => {
        if (e.kind === 'run-finished' && e.runId === 'done') resolve();
      });
    });
    await client.startRun('slow', spec('slow'));
    await client.startRun('done', spec('done'));
    // A run still training is not released: it must be stopped first.
    await expect(client.releaseRun('slow')).rejects.toMatchObject({ name: 'RunStillActiveError' });
    await finished;
    expect(await client.releaseRun('done')).toBe(1000);
    // Twice is harmless, and frees nothing more.
    expect(await client.releaseRun('done')).toBe(0);
    await expect(
      client.generate({ kind: 'run', runId: 'done' }, { text: 'x', template: 'none' }, settings),
    ).rejects.toThrow(/adapter library/);
    await client.stopRun('slow');
  });
});
