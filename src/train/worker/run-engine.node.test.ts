/**
 * The worker's engine on a real GPU (Dawn), in-thread: the message handler with the real `openRun`,
 * every training method on the tiny Llama. Runs of different methods share the device in fair turns, a
 * paused run waits while the other trains and then continues, each run exports the PEFT folder of its
 * own method, chat examples train with the model's template and prompt masking, and a finished run and
 * the base model both generate through the chat template.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { defaultTrainConfig } from '../train-config';
import { createHandler } from './handler';
import type { WorkerMessage } from './protocol';
import { openBaseModel, openRun } from './run-engine';
import type { MethodSpec, RunSpec } from './run-spec';
import { MessageClient, type RunEvent } from './training-client';

const modelFiles = Object.fromEntries(
  Object.entries(tinyModelFiles({ family: 'llama', hiddenSize: 32, layers: 2 })).map(([name, value]) => [
    name,
    typeof value === 'string' ? new TextEncoder().encode(value) : value,
  ]),
);

const spec = (method: MethodSpec, steps = 3): RunSpec => ({
  modelFiles,
  modelName: 'tiny-llama',
  method,
  train: { ...defaultTrainConfig, steps, batchSize: 2, seqLen: 32, lr: 1e-2 },
  trainTexts: ['the quick brown fox', 'jumps over the lazy dog', 'again and again'],
  validationTexts: ['the lazy dog'],
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
    openBase: openBaseModel,
    now: () => performance.now(),
  });
  client = new MessageClient((request) => void handle(request));
  const ended = (runIds: string[]) =>
    new Promise<Record<string, Extract<RunEvent, { kind: 'run-finished' }>>>((resolve, reject) => {
      const out: Record<string, Extract<RunEvent, { kind: 'run-finished' }>> = {};
      client.onEvent((e) => {
        if (e.kind === 'error') reject(new Error(`${e.runId}: ${e.name}: ${e.message}`));
        if (e.kind === 'run-finished' && runIds.includes(e.runId)) {
          out[e.runId] = e;
          if (Object.keys(out).length === runIds.length) resolve(out);
        }
      });
    });
  const steps = (runId: string) =>
    seen.flatMap((m) => (m.kind === 'progress' && m.runId === runId ? [m.progress] : []));
  return { client, seen, ended, steps };
}

const configOf = (files: Record<string, Uint8Array>) =>
  JSON.parse(new TextDecoder().decode(files['adapter_config.json']));

describe('the worker engine on the GPU', () => {
  it('interleaves DoRA and IA3, pauses IA3 while DoRA trains, then resumes it', async () => {
    const { client, seen, ended, steps } = engine();
    const done = ended(['dora', 'ia3']);
    await client.startRun('dora', spec({ method: 'dora', r: 2, alpha: 4, dropout: 0 }, 4));
    await client.startRun('ia3', spec({ method: 'ia3' }, 4));
    // Pause IA3 once both have stepped.
    await new Promise<void>((resolve) => {
      const off = client.onEvent(() => {
        if (steps('ia3').length >= 1 && steps('dora').length >= 1) {
          off();
          resolve();
        }
      });
    });
    await client.pauseRun('ia3');
    const ia3AtPause = steps('ia3').length;
    await new Promise<void>((resolve) => {
      const off = client.onEvent((e) => {
        if (e.kind === 'run-finished' && e.runId === 'dora') {
          off();
          resolve();
        }
      });
    });
    // DoRA finished while IA3 (paused) took no step.
    expect(steps('ia3').length).toBe(ia3AtPause);
    expect(ia3AtPause).toBeLessThan(4);
    await client.resumeRun('ia3');
    const results = await done;
    expect(steps('ia3').map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(steps('dora').map((p) => p.step)).toEqual([1, 2, 3, 4]);
    // Both took a turn before either finished: fair turns, not one after the other.
    const order = seen.flatMap((m) => (m.kind === 'progress' ? [m.runId] : []));
    expect(order.slice(0, order.indexOf('ia3') + 1)).toContain('dora');
    for (const p of [...steps('ia3'), ...steps('dora')]) expect(Number.isFinite(p.loss)).toBe(true);
    expect(configOf(results.dora?.files ?? {})).toMatchObject({ peft_type: 'LORA', use_dora: true, r: 2 });
    expect(configOf(results.ia3?.files ?? {})).toMatchObject({ peft_type: 'IA3' });
  }, 240_000);

  it('trains prompt, prefix, adapter and rsLoRA runs and exports each method', async () => {
    const { client, ended, steps } = engine();
    const methods: Record<string, MethodSpec> = {
      prompt: { method: 'prompt', numVirtualTokens: 3 },
      prefix: { method: 'prefix', numVirtualTokens: 3 },
      adapter: { method: 'adapter', reductionFactor: 8 },
      rslora: { method: 'lora', r: 4, alpha: 4, dropout: 0, useRslora: true, targetModules: 'all-linear' },
    };
    const done = ended(Object.keys(methods));
    for (const [id, method] of Object.entries(methods)) await client.startRun(id, spec(method, 2));
    const results = await done;
    for (const id of Object.keys(methods)) {
      expect(steps(id).map((p) => p.step)).toEqual([1, 2]);
      if (id === 'adapter') continue;
      expect(Object.keys(results[id]?.files ?? {}).sort()).toEqual([
        'adapter_config.json',
        'adapter_model.safetensors',
      ]);
    }
    expect(configOf(results.prompt?.files ?? {})).toMatchObject({
      peft_type: 'PROMPT_TUNING',
      num_virtual_tokens: 3,
    });
    expect(configOf(results.prefix?.files ?? {})).toMatchObject({
      peft_type: 'PREFIX_TUNING',
      num_virtual_tokens: 3,
    });
    expect(configOf(results.rslora?.files ?? {})).toMatchObject({ peft_type: 'LORA', use_rslora: true });
    // PEFT has no bottleneck adapters: they are written in Whetstone's own documented format.
    const adapterFiles = results.adapter?.files ?? {};
    expect(Object.keys(adapterFiles).sort()).toEqual([
      'whetstone_adapter.safetensors',
      'whetstone_adapter_config.json',
    ]);
    expect(JSON.parse(new TextDecoder().decode(adapterFiles['whetstone_adapter_config.json']))).toMatchObject(
      { reduction_factor: 8 },
    );
    // Fewer parameters train in prompt tuning than in all-linear LoRA.
    expect(steps('prompt')[0]?.trainableParams).toBeLessThan(steps('rslora')[0]?.trainableParams ?? 0);
  }, 240_000);

  it('trains on chat examples with prompt masking, then generates from the run and the base model', async () => {
    const { client, ended, steps } = engine();
    const chat = (user: string, assistant: string, line: number) => ({
      kind: 'chat' as const,
      line,
      messages: [
        { role: 'user', content: user },
        { role: 'assistant', content: assistant },
      ],
      trainFrom: 0,
    });
    const data = {
      examples: [chat('hi', 'hello there', 1), chat('name?', 'whetstone', 2), chat('ok', 'fine', 3)],
      validationExamples: [chat('hey', 'hello', 4)],
    };
    const done = ended(['lora']);
    const {
      trainTexts: _t,
      validationTexts: _v,
      ...rest
    } = spec({ method: 'lora', r: 4, alpha: 8, dropout: 0 }, 3);
    await client.startRun('lora', { ...rest, data });
    await done;
    expect(steps('lora')).toHaveLength(3);
    const settings = { maxNewTokens: 5, temperature: 0, topK: 0, topP: 1, seed: 1 };
    const streamed: string[] = [];
    const fromRun = await client.generate(
      { kind: 'run', runId: 'lora' },
      { text: 'hi', template: 'auto' },
      settings,
      (text) => streamed.push(text),
    );
    expect(fromRun.templated).toBe(true);
    expect(fromRun.tokens).toBeGreaterThan(0);
    expect(streamed).toHaveLength(fromRun.tokens);
    expect(streamed.at(-1)).toBe(fromRun.text);
    // The chat template wraps "hi" in ChatML: the prompt is longer than the word itself.
    expect(fromRun.promptTokens).toBeGreaterThan(5);
    const fromBase = await client.generate(
      { kind: 'base', modelName: 'tiny-llama', modelFiles },
      { text: 'hi', template: 'none' },
      settings,
    );
    expect(fromBase.templated).toBe(false);
    expect(fromBase.tokens).toBeGreaterThan(0);
    // Greedy decoding is deterministic: asking the base model again gives the same text.
    const again = await client.generate(
      { kind: 'base', modelName: 'tiny-llama', modelFiles },
      { text: 'hi', template: 'none' },
      settings,
    );
    expect(again.text).toBe(fromBase.text);
  }, 240_000);

  it('resumes a run from the checkpoint it sent, taking the same steps as the uninterrupted run', async () => {
    const { client, seen, ended, steps } = engine();
    const lora: MethodSpec = { method: 'lora', r: 4, alpha: 8, dropout: 0.1 };
    const whole = ended(['whole']);
    await client.startRun('whole', { ...spec(lora, 4), checkpointEvery: 2 });
    await whole;
    const sent = seen.flatMap((m) => (m.kind === 'checkpoint' && m.runId === 'whole' ? [m] : []));
    // Every 2 steps, except after the last.
    expect(sent.map((c) => c.step)).toEqual([2]);
    const resumed = ended(['resumed']);
    await client.startRun('resumed', { ...spec(lora, 4), resumeFrom: sent[0]?.checkpoint });
    await resumed;
    expect(steps('resumed').map((p) => p.step)).toEqual([3, 4]);
    const lossAt = (runId: string, step: number) => steps(runId).find((p) => p.step === step)?.loss as number;
    for (const step of [3, 4]) expect(lossAt('resumed', step)).toBeCloseTo(lossAt('whole', step), 5);
  }, 240_000);

  it("gives a finished run's GPU memory back: the arena's live bytes return to where they were", async () => {
    const runtime = await testRuntime();
    const { client, ended } = engine();
    const before = runtime.arena.stats().liveBytes;
    const done = ended(['freed']);
    await client.startRun('freed', spec({ method: 'lora', r: 2, alpha: 4, dropout: 0 }, 2));
    await done;
    const settings = { maxNewTokens: 3, temperature: 0, topK: 0, topP: 1, seed: 1 };
    const prompt = { text: 'the', template: 'none' } as const;
    // The generator's KV cache is the run's too.
    await client.generate({ kind: 'run', runId: 'freed' }, prompt, settings);
    const held = runtime.arena.stats().liveBytes - before;
    // Weights, LoRA factors, AdamW moments, activations and the cache: well over the model's 4-byte floats.
    expect(held).toBeGreaterThan(10_000);
    const freed = await client.releaseRun('freed');
    expect(freed).toBe(held);
    expect(runtime.arena.stats().liveBytes).toBe(before);
    // Nothing else trains, so the pool of reusable buffers went back to the GPU too.
    expect(runtime.arena.stats().pooledBytes).toBe(0);
    await expect(client.generate({ kind: 'run', runId: 'freed' }, prompt, settings)).rejects.toThrow(
      /adapter library/,
    );
  }, 240_000);
});
