/**
 * DoRA, IA3, bottleneck adapters, prompt tuning and prefix tuning on an encoder classifier (SEQ_CLS): every trainable tensor's gradient
 * (the method's and the classification head's) against tfjs autograd of HF's BERT with the same deltas
 * (1e-3 relative to each tensor's largest gradient, loss 1e-4), from random non-identity starting values
 * so that no gradient is trivially zero; the folder each saves (PEFT's keys plus the head under
 * base_model.model.classifier.*, task_type SEQ_CLS; bottleneck in Whetstone's format; prompt learning
 * with the head under base_model.classifier.*); and that loading the folder back gives the same loss.
 * Prompt and prefix tuning run on BERT and RoBERTa, whose position ids differ with a prompt or a past.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor, type Tensor } from '../../gpu/tensor';
import { seededRandom } from '../../gpu/testing/random';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel, type EncoderModel } from '../models/bert';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import { type EncoderAdapters, encoderLoss, type Params } from '../models/reference/tfjs-encoder';
import type { Adaptation } from '../peft/adaptation';
import { bottleneckKey } from '../peft/format/bottleneck-format';
import { safetensorsToTensors } from '../peft/format/tensor-files';
import type { PrefixTuningAdaptation } from '../peft/prefix-tuning';
import type { PromptTuningAdaptation } from '../peft/prompt-tuning';
import { type ClassificationBatch, ClassifierStep } from './classifier-step';
import { encoderAdaptationFromFolder } from './encoder-adapter-folder';
import {
  encoderBottleneck,
  encoderBottleneckFiles,
  encoderIa3,
  encoderIa3AdapterFiles,
} from './encoder-ia3-bottleneck';
import { encoderDora, encoderLoraAdapterFiles } from './encoder-lora';
import {
  encoderPrefixTuning,
  encoderPromptLearningFiles,
  encoderPromptTuning,
} from './encoder-prompt-learning';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const batch: ClassificationBatch = {
  ids: [
    [2, 40, 41, 3, 50, 51, 3],
    [2, 7, 3, 9, 3, 0, 0],
  ],
  tokenTypes: [
    [0, 0, 0, 0, 1, 1, 1],
    [0, 0, 0, 1, 1, 0, 0],
  ],
  attentionMask: [
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 0, 0],
  ],
  labels: [1, 0],
};

const uniform = (random: () => number, n: number, lo: number, hi: number) =>
  Float32Array.from({ length: n }, () => lo + random() * (hi - lo));

async function tinyBert(family: 'bert' | 'roberta' = 'bert') {
  const runtime = await testRuntime();
  const checkpoint = await openEncoderCheckpoint(filesFromMemory(tinyEncoderFiles({ family, layers: 2 })));
  const model = await createEncoderModel(runtime, checkpoint);
  const base: Params = new Map();
  for (const [name, shape] of checkpoint.shapes) {
    const value = tf.tensor(await checkpoint.read(name), shape);
    base.set(name, name.startsWith('classifier.') ? tf.variable(value) : value);
  }
  return { runtime, model, base };
}

/** RoBERTa's pad id is 1: the batch with its pads respelled. */
const batchFor = (model: EncoderModel): ClassificationBatch =>
  model.config.family === 'roberta'
    ? {
        ...batch,
        ids: batch.ids.map((row, b) =>
          row.map((id, t) => (batch.attentionMask[b]?.[t] ? id : model.config.padTokenId)),
        ),
        // RoBERTa has one token type.
        tokenTypes: batch.tokenTypes.map((row) => row.map(() => 0)),
      }
    : batch;

async function gpuLoss(runtime: Runtime, model: EncoderModel, adaptation: Adaptation, backward: boolean) {
  const step = await ClassifierStep.plan(runtime, model, { B: 2, T: 7 }, { adaptation, backward });
  step.run(batchFor(model));
  return step.loss();
}

/**
 * Runs a training step and compares the loss and each trainable tensor's gradient with tfjs's; `variables`
 * pairs each GPU parameter tensor with the tfjs variable standing for it.
 */
async function expectGradientsMatch(
  runtime: Runtime,
  model: EncoderModel,
  base: Params,
  adaptation: Adaptation,
  adapters: EncoderAdapters,
  variables: [Tensor, tf.Variable][],
) {
  const loss = await gpuLoss(runtime, model, adaptation, true);
  // The head PEFT saves: BERT's classifier; RoBERTa's classifier.dense and classifier.out_proj.
  const head = [...base.keys()].filter((name) => name.startsWith('classifier.'));
  const all: [Tensor, tf.Variable][] = [
    ...variables,
    ...head.map((name): [Tensor, tf.Variable] => [
      model.params.get(name) as Tensor,
      base.get(name) as tf.Variable,
    ]),
  ];
  const { value, grads } = tf.variableGrads(
    () => encoderLoss(model.config, base, batchFor(model), adapters),
    all.map(([, v]) => v),
  );
  const wantLoss = (await value.data())[0] as number;
  expect(Math.abs(loss - wantLoss) / Math.abs(wantLoss), 'loss').toBeLessThan(1e-4);
  const trainable = adaptation.trainable();
  expect(trainable.length).toBe(all.length);
  for (const [param, variable] of all) {
    const entry = trainable.find((e) => e.param === param);
    expect(entry, `trainable ${param.label}`).toBeDefined();
    const expected = await (grads[variable.name] as tf.Tensor).data();
    const got = await downloadTensor(runtime.arena, entry?.grad as Tensor);
    let scale = 0;
    let worst = 0;
    for (let i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i] as number));
      worst = Math.max(worst, Math.abs((got[i] as number) - (expected[i] as number)));
    }
    expect(scale, `gradient of ${entry?.name}`).toBeGreaterThan(0);
    expect(worst / scale, `gradient of ${entry?.name}`).toBeLessThan(1e-3);
  }
  return loss;
}

/** Saves, loads the folder back on the same model, and checks the loss it gives. */
async function expectRoundTrip(
  runtime: Runtime,
  model: EncoderModel,
  folder: Record<string, string | Uint8Array>,
  loss: number,
) {
  const loaded = encoderAdaptationFromFolder(runtime, model, folder);
  const again = await gpuLoss(runtime, model, loaded, false);
  expect(Math.abs(again - loss) / Math.abs(loss), 'loss after loading the folder').toBeLessThan(1e-5);
}

const layerKeys = (modules: string[], tensors: string[]) =>
  [0, 1].flatMap((i) =>
    modules.flatMap((m) => tensors.map((t) => `base_model.model.bert.encoder.layer.${i}.${m}.${t}`)),
  );
const headKeys = ['base_model.model.classifier.bias', 'base_model.model.classifier.weight'];

describe('PEFT methods on an encoder classifier', () => {
  it('DoRA: A, B, magnitude and the head match tfjs; saves use_dora with lora_magnitude_vector', async () => {
    const { runtime, model, base } = await tinyBert();
    const r = 4;
    const alpha = 8;
    const random = seededRandom(11);
    const initial = new Map<string, { a: Float32Array; b: Float32Array; magnitude: Float32Array }>();
    for (const site of model.linearSites().filter((s) => /\.(query|value)$/.test(s.path)))
      initial.set(site.path, {
        a: uniform(random, r * site.inFeatures, -0.3, 0.3),
        b: uniform(random, site.outFeatures * r, -0.3, 0.3),
        magnitude: uniform(random, site.outFeatures, 0.5, 1.5),
      });
    const trained = await encoderDora(runtime, model, { r, alpha }, initial);
    const lora: NonNullable<EncoderAdapters['lora']> = new Map();
    const variables: [Tensor, tf.Variable][] = [];
    for (const [path, w] of trained.lora.weights()) {
      const start = initial.get(path);
      const magnitude = (w as { magnitude?: Tensor }).magnitude;
      if (!start || !magnitude) throw new Error(`no DoRA start for ${path}`);
      const delta = {
        a: tf.variable(tf.tensor(start.a, [...w.a.shape])),
        b: tf.variable(tf.tensor(start.b, [...w.b.shape])),
        magnitude: tf.variable(tf.tensor(start.magnitude, [...magnitude.shape])),
        scale: alpha / r,
      };
      lora.set(path, delta);
      variables.push([w.a, delta.a], [w.b, delta.b], [magnitude, delta.magnitude]);
    }
    const loss = await expectGradientsMatch(runtime, model, base, trained.adaptation, { lora }, variables);

    const folder = await encoderLoraAdapterFiles(runtime, model, trained, 'tiny-bert');
    const config = JSON.parse(folder['adapter_config.json']);
    expect([config.peft_type, config.task_type, config.use_dora]).toEqual(['LORA', 'SEQ_CLS', true]);
    expect(config.modules_to_save).toEqual(['classifier', 'score']);
    const saved = safetensorsToTensors('adapter_model.safetensors', folder['adapter_model.safetensors']);
    expect([...saved.keys()].sort()).toEqual(
      [
        ...layerKeys(
          ['attention.self.query', 'attention.self.value'],
          ['lora_A.weight', 'lora_B.weight', 'lora_magnitude_vector'],
        ),
        ...headKeys,
      ].sort(),
    );
    await expectRoundTrip(runtime, model, folder, loss);
  });

  it("IA3 on PEFT's BERT targets: every ia3_l and the head match tfjs; saves PEFT's IA3 SEQ_CLS folder", async () => {
    const { runtime, model, base } = await tinyBert();
    const random = seededRandom(12);
    const probe = encoderIa3(runtime, model);
    // PEFT's "." suffix match takes the attention output dense as well as the FFN output dense.
    const paths = [...probe.ia3.weights().keys()];
    expect(paths.filter((p) => p.startsWith('bert.encoder.layer.0.')).sort()).toEqual(
      [
        'bert.encoder.layer.0.attention.output.dense',
        'bert.encoder.layer.0.attention.self.key',
        'bert.encoder.layer.0.attention.self.value',
        'bert.encoder.layer.0.output.dense',
      ].sort(),
    );
    const initial = new Map(
      [...probe.ia3.weights()].map(([path, v]) => [path, uniform(random, v.l.size, 0.5, 1.5)]),
    );
    const trained = encoderIa3(runtime, model, {}, initial);
    const ia3: NonNullable<EncoderAdapters['ia3']> = new Map();
    const variables: [Tensor, tf.Variable][] = [];
    for (const [path, v] of trained.ia3.weights()) {
      const l = tf.variable(tf.tensor(initial.get(path) as Float32Array, [...v.l.shape]));
      ia3.set(path, { l, feedforward: v.feedforward });
      variables.push([v.l, l]);
    }
    expect([...ia3.values()].filter((v) => v.feedforward).length).toBe(4);
    const loss = await expectGradientsMatch(runtime, model, base, trained.adaptation, { ia3 }, variables);

    const folder = await encoderIa3AdapterFiles(runtime, model, trained, 'tiny-bert');
    const config = JSON.parse(folder['adapter_config.json']);
    expect([config.peft_type, config.task_type]).toEqual(['IA3', 'SEQ_CLS']);
    expect(config.target_modules).toEqual(['key', 'output.dense', 'value']);
    expect(config.feedforward_modules).toEqual(['output.dense']);
    expect(config.modules_to_save).toEqual(['classifier', 'score']);
    const saved = safetensorsToTensors('adapter_model.safetensors', folder['adapter_model.safetensors']);
    expect([...saved.keys()].sort()).toEqual(
      [
        ...layerKeys(
          ['attention.self.key', 'attention.self.value', 'attention.output.dense', 'output.dense'],
          ['ia3_l'],
        ),
        ...headKeys,
      ].sort(),
    );
    expect(saved.get('base_model.model.bert.encoder.layer.0.output.dense.ia3_l')?.shape).toEqual([1, 48]);
    expect(saved.get('base_model.model.bert.encoder.layer.0.attention.self.key.ia3_l')?.shape).toEqual([
      32, 1,
    ]);
    await expectRoundTrip(runtime, model, folder, loss);
  });

  it('bottleneck adapters after attention and FFN: down, up and the head match tfjs; round-trips', async () => {
    const { runtime, model, base } = await tinyBert();
    const random = seededRandom(13);
    const C = model.config.C;
    const reductionFactor = 4;
    const m = C / reductionFactor;
    const initial = new Map<string, Float32Array>();
    const bottleneck: NonNullable<EncoderAdapters['bottleneck']> = new Map();
    for (let layer = 0; layer < model.config.L; layer++)
      for (const position of ['attention', 'ffn'] as const) {
        const key = (p: 'down' | 'up', w: 'weight' | 'bias') => bottleneckKey(layer, position, p, w);
        const values = {
          downWeight: uniform(random, m * C, -0.3, 0.3),
          downBias: uniform(random, m, -0.1, 0.2),
          upWeight: uniform(random, C * m, -0.3, 0.3),
          upBias: uniform(random, C, -0.1, 0.1),
        };
        initial.set(key('down', 'weight'), values.downWeight);
        initial.set(key('down', 'bias'), values.downBias);
        initial.set(key('up', 'weight'), values.upWeight);
        initial.set(key('up', 'bias'), values.upBias);
        bottleneck.set(`${layer}.${position}`, {
          downWeight: tf.variable(tf.tensor(values.downWeight, [m, C])),
          downBias: tf.variable(tf.tensor(values.downBias, [m])),
          upWeight: tf.variable(tf.tensor(values.upWeight, [C, m])),
          upBias: tf.variable(tf.tensor(values.upBias, [C])),
          nonLinearity: 'relu',
        });
      }
    const trained = encoderBottleneck(runtime, model, { reductionFactor }, initial);
    const tensors = trained.bottleneck.tensors();
    const variables: [Tensor, tf.Variable][] = [];
    for (const [key, tensor] of tensors) {
      const match = /^adapters\.layers\.(\d+)\.(attention|ffn)\.(down|up)\.(weight|bias)$/.exec(key);
      if (!match) throw new Error(key);
      const adapter = bottleneck.get(`${match[1]}.${match[2]}`);
      const field = `${match[3]}${match[4] === 'weight' ? 'Weight' : 'Bias'}` as 'downWeight';
      variables.push([tensor, adapter?.[field] as tf.Variable]);
    }
    const loss = await expectGradientsMatch(
      runtime,
      model,
      base,
      trained.adaptation,
      { bottleneck },
      variables,
    );

    const folder = await encoderBottleneckFiles(runtime, model, trained, 'tiny-bert');
    const config = JSON.parse(folder['whetstone_adapter_config.json'] as string);
    expect([config.adapter_type, config.architecture, config.hidden_size]).toEqual([
      'bottleneck',
      'BertForSequenceClassification',
      C,
    ]);
    const saved = safetensorsToTensors(
      'whetstone_adapter.safetensors',
      folder['whetstone_adapter.safetensors'] as Uint8Array,
    );
    expect([...saved.keys()].sort()).toEqual([...tensors.keys(), ...headKeys].sort());
    await expectRoundTrip(runtime, model, folder, loss);
  });

  for (const family of ['bert', 'roberta'] as const) {
    it(`prompt tuning on ${family}: the prompt and the head match tfjs; saves PEFT's PROMPT_TUNING SEQ_CLS folder`, async () => {
      const { runtime, model, base } = await tinyBert(family);
      const P = 3;
      const trained = encoderPromptTuning(runtime, model, { numVirtualTokens: P, seed: 5 });
      const m = trained.method as PromptTuningAdaptation;
      const prompt = tf.variable(
        tf.tensor(await downloadTensor(runtime.arena, m.prompt), [P, model.config.C]),
      );
      const loss = await expectGradientsMatch(runtime, model, base, trained.adaptation, { prompt }, [
        [m.prompt, prompt],
      ]);

      const folder = await encoderPromptLearningFiles(runtime, model, trained, 'tiny');
      const config = JSON.parse(folder['adapter_config.json']);
      expect([config.peft_type, config.task_type, config.num_virtual_tokens]).toEqual([
        'PROMPT_TUNING',
        'SEQ_CLS',
        P,
      ]);
      const saved = safetensorsToTensors('adapter_model.safetensors', folder['adapter_model.safetensors']);
      expect([...saved.keys()].sort()).toEqual(
        [...trained.adaptation.names.map((name) => `base_model.${name}`), 'prompt_embeddings'].sort(),
      );
      await expectRoundTrip(runtime, model, folder, loss);
    });

    it(`prefix tuning on ${family}: the prefix and the head match tfjs; saves PEFT's PREFIX_TUNING SEQ_CLS folder`, async () => {
      const { runtime, model, base } = await tinyBert(family);
      const P = 2;
      const c = model.config;
      const values = uniform(seededRandom(6), P * c.L * 2 * c.C, -1, 1);
      const trained = encoderPrefixTuning(runtime, model, { numVirtualTokens: P }, values);
      const m = trained.method as PrefixTuningAdaptation;
      const prefix = tf.variable(tf.tensor(values, [P, c.L * 2 * c.C]));
      const loss = await expectGradientsMatch(runtime, model, base, trained.adaptation, { prefix }, [
        [m.table, prefix],
      ]);

      const folder = await encoderPromptLearningFiles(runtime, model, trained, 'tiny');
      const config = JSON.parse(folder['adapter_config.json']);
      expect([config.peft_type, config.task_type, config.token_dim, config.num_layers]).toEqual([
        'PREFIX_TUNING',
        'SEQ_CLS',
        c.C,
        c.L,
      ]);
      const saved = safetensorsToTensors('adapter_model.safetensors', folder['adapter_model.safetensors']);
      expect(saved.get('prompt_embeddings')?.shape).toEqual([P, c.L * 2 * c.C]);
      await expectRoundTrip(runtime, model, folder, loss);
    });
  }
});
