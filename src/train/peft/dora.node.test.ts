/**
 * DoRA against the independent tfjs reference (norm detached there too, taken from plain copies):
 * a fresh adapter gives the base loss; with B and m away from their initial values the gradients of
 * every A, B and magnitude match tfjs autograd (Llama and GPT-2); one DoRA layer with dropout, in
 * training and in evaluation, matches PEFT's formula differentiated by tfjs; one SGD step through the
 * Trainer is the exact update; training learns; and an exported adapter imports to the same loss.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { submitDispatches } from '../../gpu/dispatch';
import { dropoutMask } from '../../gpu/kernels/dropout/dropout.ref';
import { loraScale } from '../../gpu/kernels/lora-linear/lora-linear';
import { downloadTensor, type Tensor, uploadTensor, writeTensor } from '../../gpu/tensor';
import { randomArray, seededRandom } from '../../gpu/testing/random';
import { testRuntime } from '../../gpu/testing/test-runtime';
import type { TokenExample } from '../batches';
import { loraAdapterFiles, loraFromAdapter } from '../export/lora-adapter';
import { type TinyFamily, tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import type { DecoderConfig } from '../models/config';
import { createDecoderModel } from '../models/create-model';
import { type DecoderModel, DecoderStep } from '../models/decoder-step';
import { type LoraDeltas, lossOf, type Params } from '../models/reference/tfjs-causal-lm';
import { defaultTrainConfig, type TrainConfig } from '../train-config';
import { Trainer } from '../trainer';
import type { LinearSite } from './adaptation';
import { DoraAdaptation, type DoraOptions } from './dora';
import { twoRowBatch } from './testing/peft-node-test';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Two rows of 7 tokens, the second right-padded after 3. */
const batch = twoRowBatch;

async function setup(family: TinyFamily, options: DoraOptions) {
  const runtime = await testRuntime();
  const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles({ family })));
  const model = await createDecoderModel(runtime, checkpoint);
  const dora = await DoraAdaptation.create(runtime, model, options);
  const params: Params = new Map();
  for (const [name, w] of checkpoint.weights)
    params.set(name, tf.tensor(await checkpoint.read(name), w.shape));
  return { runtime, model, dora, params, config: checkpoint.config };
}

/** Moves B and m away from their initial values (B = 0, m = ‖W‖) and mirrors all three as tfjs variables. */
async function perturb(runtime: Awaited<ReturnType<typeof testRuntime>>, dora: DoraAdaptation) {
  const deltas: LoraDeltas = new Map();
  const before = new Map<string, Float32Array>();
  let k = 1;
  for (const [path, w] of dora.weights()) {
    const b = Float32Array.from({ length: w.b.size }, () => Math.sin(k++) * 0.3);
    const norms = await downloadTensor(runtime.arena, w.magnitude);
    const m = norms.map((n) => n * (1 + 0.4 * Math.cos(k++)));
    writeTensor(runtime.device, w.b, b);
    writeTensor(runtime.device, w.magnitude, m);
    const a = await downloadTensor(runtime.arena, w.a);
    before.set(`${path}.lora_A.weight`, a);
    before.set(`${path}.lora_B.weight`, b);
    before.set(`${path}.lora_magnitude_vector`, m);
    deltas.set(path, {
      a: tf.variable(tf.tensor(a, [...w.a.shape])),
      b: tf.variable(tf.tensor(b, [...w.b.shape])),
      magnitude: tf.variable(tf.tensor(m, [...w.magnitude.shape])),
      scale: dora.scale,
    });
  }
  return { deltas, before };
}

/** The tfjs variable behind a trainable entry's name. */
function variableOf(deltas: LoraDeltas, name: string): tf.Variable {
  const match = /^(.+)\.(lora_A\.weight|lora_B\.weight|lora_magnitude_vector)$/.exec(name);
  const delta = deltas.get(match?.[1] ?? '');
  const kind = match?.[2] === 'lora_A.weight' ? 'a' : match?.[2] === 'lora_B.weight' ? 'b' : 'magnitude';
  return delta?.[kind] as tf.Variable;
}

function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i] as number));
    worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
  }
  return worst / scale;
}

describe('DoRA through whole models', () => {
  it.each<TinyFamily>(['llama', 'gpt2'])(
    'a fresh adapter (B = 0, m = ‖W‖) gives the base loss: %s',
    async (family) => {
      const { runtime, model, dora } = await setup(family, { r: 4, alpha: 8, targetModules: 'all-linear' });
      const base = await DecoderStep.plan(runtime, model, { B: 2, T: 7 });
      base.run(batch);
      const adapted = await DecoderStep.plan(
        runtime,
        model,
        { B: 2, T: 7 },
        { adaptation: dora, backward: true },
      );
      adapted.run(batch);
      const want = (await base.loss()).loss;
      expect(Math.abs((await adapted.loss()).loss - want)).toBeLessThanOrEqual(1e-6 * want);
    },
  );

  it.each<{ family: TinyFamily; options: DoraOptions }>([
    { family: 'llama', options: { r: 4, alpha: 8 } },
    { family: 'llama', options: { r: 3, alpha: 5, targetModules: 'all-linear', useRslora: true } },
    { family: 'gpt2', options: { r: 2, alpha: 4, targetModules: ['c_attn', 'c_proj', 'c_fc'] } },
  ])(
    'gradients of every A, B and magnitude match tfjs autograd: $family $options',
    async ({ family, options }) => {
      const { runtime, model, dora, params, config } = await setup(family, options);
      const { deltas } = await perturb(runtime, dora);
      const step = await DecoderStep.plan(
        runtime,
        model,
        { B: 2, T: 7 },
        { adaptation: dora, backward: true },
      );
      step.run(batch);
      const { loss } = await step.loss();

      const variables = [...deltas.values()].flatMap((d) => [d.a, d.b, d.magnitude]) as tf.Variable[];
      const { value, grads } = tf.variableGrads(() => lossOf(config, params, batch, deltas), variables);
      expect(Math.abs(loss - ((await value.data())[0] as number))).toBeLessThan(1e-4 * loss);
      const entries = dora.trainable();
      expect(entries).toHaveLength(3 * dora.weights().size);
      for (const entry of entries) {
        const want = await (grads[variableOf(deltas, entry.name).name] as tf.Tensor).data();
        const got = await downloadTensor(runtime.arena, entry.grad);
        expect(relativeError(got, want), entry.name).toBeLessThan(1e-3);
      }
    },
  );
});

describe('one DoRA layer as PEFT computes it, dropout included', () => {
  // y = x·Wᵀ + b + (g − 1) ⊙ (x̃·Wᵀ) + g ⊙ s·x̃·Aᵀ·Bᵀ with x̃ = x ⊙ mask in training (tuners/lora/variants.py,
  // DoraLinearVariant.forward: base_result=None once dropout is active), x̃ = x in evaluation.
  it.each([
    { layout: 'out-in' as const, training: true },
    { layout: 'in-out' as const, training: true },
    { layout: 'out-in' as const, training: false },
  ])('%j', async ({ layout, training }) => {
    const runtime = await testRuntime();
    const [N, IN, OUT, r, p] = [13, 21, 18, 3, 0.3];
    const options: DoraOptions = { r, alpha: 7, dropout: p, targetModules: ['q_proj'], seed: 42 };
    const random = seededRandom(7);
    const data = {
      x: randomArray(random, N * IN),
      w: randomArray(random, OUT * IN, 0.5),
      bias: randomArray(random, OUT),
      b: randomArray(random, OUT * r, 0.5),
      dy: randomArray(random, N * OUT),
    };
    const wStored = layout === 'out-in' ? data.w : transpose(data.w, OUT, IN);
    const site: LinearSite = {
      path: 'model.layers.0.self_attn.q_proj',
      module: 'q_proj',
      layer: 0,
      base: {
        name: 'q_proj',
        weight: uploadTensor(runtime.arena, 'w', layout === 'out-in' ? [OUT, IN] : [IN, OUT], wStored),
        bias: uploadTensor(runtime.arena, 'bias', [OUT], data.bias),
        layout,
      },
      inFeatures: IN,
      outFeatures: OUT,
    };
    const model: DecoderModel = {
      config: {} as DecoderConfig,
      params: new Map(),
      linearSites: () => [site],
      plan: () => Promise.reject(new Error('not a model')),
    };
    const dora = await DoraAdaptation.create(runtime, model, options);
    const w = dora.weights().get(site.path)!;
    const a = await downloadTensor(runtime.arena, w.a);
    const m = (await downloadTensor(runtime.arena, w.magnitude)).map((n, i) => n * (1 + 0.3 * Math.sin(i)));
    writeTensor(runtime.device, w.b, data.b);
    writeTensor(runtime.device, w.magnitude, m);
    dora.setStep(5);
    // Outputs start as NaN, so every element must be written.
    const poisoned = (label: string, shape: number[]) =>
      uploadTensor(runtime.arena, label, shape, new Float32Array(shape[0]! * shape[1]!).fill(Number.NaN));
    const io = {
      x: uploadTensor(runtime.arena, 'x', [N, IN], data.x),
      y: poisoned('y', [N, OUT]),
      dy: uploadTensor(runtime.arena, 'dy', [N, OUT], data.dy),
      dx: poisoned('dx', [N, IN]),
    };
    const op = dora.linear(site, { runtime, N, training });
    submitDispatches(runtime, [...(await op.forward(io.x, io.y)), ...(await op.backward(io))]);

    const s = loraScale({ rank: r, alpha: options.alpha });
    const mask = training
      ? dropoutMask({ seed: 42, step: 5, stream: 0 }, N * IN, p)
      : new Float64Array(N * IN).fill(1);
    const W = tf.tensor2d(data.w, [OUT, IN]);
    const norm = W.add(tf.matMul(tf.tensor2d(data.b, [OUT, r]), tf.tensor2d(a, [r, IN])).mul(s))
      .square()
      .sum(1)
      .sqrt();
    const keep = tf.tensor2d(Float32Array.from(mask), [N, IN]);
    const forward = (x: tf.Tensor, av: tf.Tensor, bv: tf.Tensor, mv: tf.Tensor) => {
      const g = mv.div(norm);
      const dropped = x.mul(keep);
      const lowRank = tf.matMul(tf.matMul(dropped, av, false, true), bv, false, true).mul(s);
      return tf
        .matMul(x, W, false, true)
        .add(tf.tensor1d(data.bias))
        .add(tf.matMul(dropped, W, false, true).mul(g.sub(1)))
        .add(lowRank.mul(g));
    };
    const inputs = [
      tf.tensor2d(data.x, [N, IN]),
      tf.tensor2d(a, [r, IN]),
      tf.tensor2d(data.b, [OUT, r]),
      tf.tensor1d(m),
    ];
    const y = forward(...(inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]));
    const [gx, ga, gb, gm] = tf.grads(forward)(inputs, tf.tensor2d(data.dy, [N, OUT])) as tf.Tensor[];
    const [dA, dB, dm] = dora.trainable().map((e) => e.grad) as [Tensor, Tensor, Tensor];
    const checks: [string, Tensor, tf.Tensor][] = [
      ['y', io.y, y],
      ['dx', io.dx, gx as tf.Tensor],
      ['dA', dA, ga as tf.Tensor],
      ['dB', dB, gb as tf.Tensor],
      ['dm', dm, gm as tf.Tensor],
    ];
    for (const [name, got, want] of checks)
      expect(relativeError(await downloadTensor(runtime.arena, got), await want.data()), name).toBeLessThan(
        1e-4,
      );
  });
});

function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j] as number;
  return out;
}

const bytes = (text: string) => [...new TextEncoder().encode(text)];

describe('DoRA in the trainer', () => {
  it('one SGD step moves A, B and m by exactly the gradient-descent update, and nothing else', async () => {
    const examples: TokenExample[] = [
      { ids: bytes('Hello, world!') },
      { ids: bytes('Whetstone') },
      { ids: bytes('ok') },
    ];
    const config: TrainConfig = {
      ...defaultTrainConfig,
      optimizer: 'sgd',
      lr: 0.5,
      schedule: 'constant',
      maxGradNorm: 0,
      shuffle: false,
      steps: 1,
      batchSize: examples.length,
      seqLen: 32,
    };
    const {
      runtime,
      model,
      dora,
      params,
      config: modelConfig,
    } = await setup('llama', {
      r: 2,
      alpha: 4,
      targetModules: ['q_proj', 'v_proj', 'down_proj'],
      seed: 5,
    });
    const { deltas, before } = await perturb(runtime, dora);
    const q = model.params.get('model.layers.0.self_attn.q_proj.weight') as Tensor;
    const baseBefore = await downloadTensor(runtime.arena, q);
    const trainer = new Trainer(runtime, model, dora, config, examples);
    for await (const event of trainer.run()) expect(event.kind).toBe('step');

    const T = Math.max(...examples.map((e) => e.ids.length));
    const pad = (row: number[], fill: number) => [...row, ...Array(T - row.length).fill(fill)];
    const reference = {
      ids: examples.map((e) => pad(e.ids, 0)),
      attentionMask: examples.map((e) =>
        pad(
          e.ids.map(() => 1),
          0,
        ),
      ),
      labels: examples.map((e) => pad(e.ids, -100)),
    };
    const variables = [...deltas.values()].flatMap((d) => [d.a, d.b, d.magnitude]) as tf.Variable[];
    const { grads } = tf.variableGrads(() => lossOf(modelConfig, params, reference, deltas), variables);
    for (const entry of dora.trainable()) {
      const grad = await (grads[variableOf(deltas, entry.name).name] as tf.Tensor).data();
      const start = before.get(entry.name) as Float32Array;
      const after = await downloadTensor(runtime.arena, entry.param);
      const moved = Float64Array.from(after, (v, i) => v - (start[i] as number));
      const step = Float64Array.from(grad, (g) => -config.lr * g);
      expect(relativeError(moved, step), entry.name).toBeLessThan(1e-4);
    }
    expect(await downloadTensor(runtime.arena, q)).toEqual(baseBefore);
  });

  // The LoRA learning task (trainer.node.test.ts): continue one fixed sentence. DoRA must cut the
  // validation loss (about 6.1 at the start) by at least 1.0 nat within 8 AdamW steps (it falls by about
  // 1.5 within the first 5). Every row is the same sentence, so one row per batch gives the same
  // gradient as more, and 48 positions hold its 44 tokens.
  it('lowers the validation loss by at least 1.0 within 8 steps', async () => {
    const sentence = { ids: [256, ...bytes('the quick brown fox jumps over the lazy dog')] };
    const { runtime, model, dora } = await setup('llama', { r: 4, alpha: 8, targetModules: 'all-linear' });
    const trainer = new Trainer(
      runtime,
      model,
      dora,
      { ...defaultTrainConfig, lr: 3e-2, steps: 8, batchSize: 1, seqLen: 48, warmupSteps: 3, evalEvery: 8 },
      Array.from({ length: 4 }, () => sentence),
      [sentence],
    );
    const start = await trainer.evaluate();
    const events = [];
    for await (const event of trainer.run()) events.push(event);
    const end = events.filter((e) => e.kind === 'eval').at(-1);
    expect(end?.loss).toBeLessThan(start.loss - 1.0);
    expect(events.filter((e) => e.kind === 'step')).toHaveLength(8);
  });
});

describe('DoRA adapters in PEFT format', () => {
  it.each<TinyFamily>(['llama', 'gpt2'])('export then import gives the same loss: %s', async (family) => {
    const { runtime, model, dora } = await setup(family, { r: 3, alpha: 6, targetModules: 'all-linear' });
    await perturb(runtime, dora);
    const lossWith = async (adaptation: DoraAdaptation) => {
      const step = await DecoderStep.plan(runtime, model, { B: 2, T: 7 }, { adaptation });
      step.run(batch);
      return (await step.loss()).loss;
    };
    const files = await loraAdapterFiles(runtime, model, dora, null);
    const config = JSON.parse(files['adapter_config.json']);
    expect(config.use_dora).toBe(true);
    const imported = loraFromAdapter(runtime, model, files);
    expect(imported).toBeInstanceOf(DoraAdaptation);
    expect(await lossWith(imported as DoraAdaptation)).toBe(await lossWith(dora));
  });
});
