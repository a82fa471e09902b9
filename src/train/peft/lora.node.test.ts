/**
 * LoRA against the independent tfjs reference: a fresh adapter leaves the loss exactly as the base
 * model's, and with B nonzero the gradients of every A and B match tfjs autograd to 1e-3 relative.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitKPlan } from '../../gpu/kernels/matmul/split-k';
import { downloadTensor, writeTensor } from '../../gpu/tensor';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { type TinyFamily, tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { createDecoderModel } from '../models/create-model';
import { DecoderStep, type TokenBatch } from '../models/decoder-step';
import { type LoraDeltas, lossOf, type Params } from '../models/reference/tfjs-causal-lm';
import { LoraAdaptation, type LoraOptions } from './lora';
import { twoRowBatch } from './testing/peft-node-test';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Two rows of 7 tokens, the second right-padded after 3. */
const batch = twoRowBatch;

/** Two full rows of 300 byte tokens: 600 tokens, enough for dA and dB to split K (split-k.ts). */
const longRow = (offset: number) => Array.from({ length: 300 }, (_, i) => (i * 37 + offset) % 256);
const longBatch: TokenBatch = {
  ids: [longRow(1), longRow(5)],
  attentionMask: [Array(300).fill(1), Array(300).fill(1)],
  labels: [longRow(1), longRow(5)],
};

async function setup(family: TinyFamily, options: LoraOptions) {
  const runtime = await testRuntime();
  const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles({ family })));
  const model = await createDecoderModel(runtime, checkpoint);
  const lora = new LoraAdaptation(runtime, model, options);
  const params: Params = new Map();
  for (const [name, w] of checkpoint.weights)
    params.set(name, tf.tensor(await checkpoint.read(name), w.shape));
  return { runtime, model, lora, params, config: checkpoint.config };
}

describe('LoRA', () => {
  it.each<TinyFamily>(['llama', 'gpt2'])(
    'a fresh adapter (B = 0) gives exactly the base loss: %s',
    async (family) => {
      const { runtime, model, lora } = await setup(family, { r: 4, alpha: 8, targetModules: 'all-linear' });
      const base = await DecoderStep.plan(runtime, model, { B: 2, T: 7 });
      base.run(batch);
      const adapted = await DecoderStep.plan(
        runtime,
        model,
        { B: 2, T: 7 },
        { adaptation: lora, backward: true },
      );
      adapted.run(batch);
      expect((await adapted.loss()).loss).toBe((await base.loss()).loss);
    },
  );

  it.each<{ family: TinyFamily; options: LoraOptions; batch?: TokenBatch }>([
    { family: 'llama', options: { r: 4, alpha: 8 } },
    { family: 'llama', options: { r: 3, alpha: 5, targetModules: 'all-linear', useRslora: true } },
    { family: 'gpt2', options: { r: 2, alpha: 4, targetModules: ['c_attn', 'c_proj', 'c_fc'] } },
    { family: 'llama', options: { r: 4, alpha: 8, dropout: 0 }, batch: longBatch },
  ])(
    'gradients of every A and B match tfjs autograd: $family $options',
    async ({ family, options, batch = twoRowBatch }) => {
      const [B, T] = [batch.ids.length, batch.ids[0]?.length as number];
      if (batch === longBatch) expect(splitKPlan(options.r, 32, B * T), 'dA splits').toBeDefined();
      const { runtime, model, lora, params, config } = await setup(family, options);
      // Give B values so the gradient of A is not zero.
      const deltas: LoraDeltas = new Map();
      const scale = options.useRslora ? options.alpha / Math.sqrt(options.r) : options.alpha / options.r;
      let seed = 1;
      for (const [path, w] of lora.weights()) {
        const b = Float32Array.from({ length: w.b.size }, () => Math.sin(seed++) * 0.3);
        writeTensor(runtime.device, w.b, b);
        const a = await downloadTensor(runtime.arena, w.a);
        deltas.set(path, {
          a: tf.variable(tf.tensor(a, [...w.a.shape])),
          b: tf.variable(tf.tensor(b, [...w.b.shape])),
          scale,
        });
      }
      const step = await DecoderStep.plan(runtime, model, { B, T }, { adaptation: lora, backward: true });
      step.run(batch);
      const { loss } = await step.loss();

      const variables = [...deltas.values()].flatMap((d) => [d.a, d.b]) as tf.Variable[];
      const { value, grads } = tf.variableGrads(() => lossOf(config, params, batch, deltas), variables);
      expect(Math.abs(loss - ((await value.data())[0] as number))).toBeLessThan(1e-4 * loss);
      for (const entry of lora.trainable()) {
        const [path, kind] = [
          entry.name.replace(/\.lora_[AB]\.weight$/, ''),
          entry.name.includes('lora_A') ? 'a' : 'b',
        ];
        const variable = deltas.get(path)?.[kind as 'a' | 'b'] as tf.Variable;
        const want = await (grads[variable.name] as tf.Tensor).data();
        const got = await downloadTensor(runtime.arena, entry.grad);
        let scaleRef = 0;
        let worst = 0;
        for (let i = 0; i < want.length; i++) {
          scaleRef = Math.max(scaleRef, Math.abs(want[i] as number));
          worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
        }
        expect(worst / scaleRef, entry.name).toBeLessThan(1e-3);
      }
    },
  );
});
