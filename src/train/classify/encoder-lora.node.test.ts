/**
 * LoRA on an encoder classifier (SEQ_CLS): the gradients of every A and B on query and value, and of the
 * classification head that trains beside them, against tfjs autograd of HF's BERT with the LoRA deltas
 * (1e-3 relative per tensor, loss 1e-4); and the PEFT folder it saves: task_type SEQ_CLS,
 * modules_to_save, and exactly the keys PEFT writes (lora_A/lora_B per targeted module, the head as
 * base_model.model.classifier.weight/.bias).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { downloadTensor } from '../../gpu/tensor';
import { seededRandom } from '../../gpu/testing/random';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel } from '../models/bert';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import { encoderLoss, type LoraDeltas, type Params } from '../models/reference/tfjs-encoder';
import { safetensorsToTensors } from '../peft/format/tensor-files';
import { type ClassificationBatch, ClassifierStep } from './classifier-step';
import { encoderLora, encoderLoraAdapterFiles } from './encoder-lora';

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

describe('LoRA on an encoder classifier', () => {
  it('matches tfjs autograd for A, B and the head, and saves the PEFT SEQ_CLS layout', async () => {
    const runtime = await testRuntime();
    const checkpoint = await openEncoderCheckpoint(
      filesFromMemory(tinyEncoderFiles({ family: 'bert', layers: 2 })),
    );
    const config = checkpoint.config;
    const model = await createEncoderModel(runtime, checkpoint);
    const r = 4;
    const alpha = 8;
    // Random B as well as A, so that every gradient is nonzero (a fresh adapter's B is zero).
    const random = seededRandom(7);
    const initial = new Map<string, { a: Float32Array; b: Float32Array }>();
    for (const site of model.linearSites().filter((s) => /\.(query|value)$/.test(s.path))) {
      initial.set(site.path, {
        a: Float32Array.from({ length: r * site.inFeatures }, () => (random() * 2 - 1) * 0.3),
        b: Float32Array.from({ length: site.outFeatures * r }, () => (random() * 2 - 1) * 0.3),
      });
    }
    const trained = encoderLora(runtime, model, { r, alpha }, initial);
    expect([...trained.lora.weights().keys()].sort()).toEqual([...initial.keys()].sort());
    const step = await ClassifierStep.plan(
      runtime,
      model,
      { B: 2, T: 7 },
      { adaptation: trained.adaptation, backward: true },
    );
    step.run(batch);
    const loss = await step.loss();

    const base: Params = new Map();
    for (const [name, shape] of checkpoint.shapes) {
      const value = tf.tensor(await checkpoint.read(name), shape);
      base.set(name, name.startsWith('classifier.') ? tf.variable(value) : value);
    }
    const lora: LoraDeltas = new Map();
    for (const [path, w] of initial) {
      const site = model.linearSites().find((s) => s.path === path);
      if (!site) throw new Error(path);
      lora.set(path, {
        a: tf.variable(tf.tensor(w.a, [r, site.inFeatures])),
        b: tf.variable(tf.tensor(w.b, [site.outFeatures, r])),
        scale: alpha / r,
      });
    }
    const variables: [string, tf.Variable][] = [
      ...[...lora].flatMap(([path, d]) => [
        [`${path}.lora_A.weight`, d.a as tf.Variable] as [string, tf.Variable],
        [`${path}.lora_B.weight`, d.b as tf.Variable] as [string, tf.Variable],
      ]),
      ['classifier.weight', base.get('classifier.weight') as tf.Variable],
      ['classifier.bias', base.get('classifier.bias') as tf.Variable],
    ];
    const { value, grads } = tf.variableGrads(
      () => encoderLoss(config, base, batch, lora),
      variables.map(([, v]) => v),
    );
    const wantLoss = (await value.data())[0] as number;
    expect(Math.abs(loss - wantLoss) / Math.abs(wantLoss), 'loss').toBeLessThan(1e-4);

    const trainable = new Map(trained.adaptation.trainable().map((e) => [e.name, e]));
    expect([...trainable.keys()].sort()).toEqual(variables.map(([name]) => name).sort());
    for (const [name, variable] of variables) {
      const expected = await (grads[variable.name] as tf.Tensor).data();
      const got = await downloadTensor(runtime.arena, trainable.get(name)?.grad as never);
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < expected.length; i++) {
        scale = Math.max(scale, Math.abs(expected[i] as number));
        worst = Math.max(worst, Math.abs((got[i] as number) - (expected[i] as number)));
      }
      expect(scale, `gradient of ${name}`).toBeGreaterThan(0);
      expect(worst / scale, `gradient of ${name}`).toBeLessThan(1e-3);
    }

    const folder = await encoderLoraAdapterFiles(runtime, model, trained, 'tiny-bert');
    const adapterConfig = JSON.parse(folder['adapter_config.json']);
    expect(adapterConfig.task_type).toBe('SEQ_CLS');
    expect(adapterConfig.peft_type).toBe('LORA');
    expect(adapterConfig.modules_to_save).toEqual(['classifier', 'score']);
    expect(adapterConfig.target_modules).toEqual(['query', 'value']);
    const saved = safetensorsToTensors('adapter_model.safetensors', folder['adapter_model.safetensors']);
    const keys = [...saved.keys()].sort();
    const layerKeys = [0, 1].flatMap((i) =>
      ['query', 'value'].flatMap((m) =>
        ['lora_A', 'lora_B'].map(
          (ab) => `base_model.model.bert.encoder.layer.${i}.attention.self.${m}.${ab}.weight`,
        ),
      ),
    );
    expect(keys).toEqual(
      [...layerKeys, 'base_model.model.classifier.bias', 'base_model.model.classifier.weight'].sort(),
    );
    expect(saved.get('base_model.model.classifier.weight')?.shape).toEqual([2, 32]);
    expect(
      saved.get('base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight')?.shape,
    ).toEqual([r, 32]);
  });
});
