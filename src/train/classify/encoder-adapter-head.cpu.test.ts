import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../io/safetensors';
import { bottleneckWeightsFile } from '../peft/format/bottleneck-format';
import { adapterHeadClasses } from './encoder-adapter-folder';

const tensor = (name: string, shape: number[]) => ({
  name,
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
});

describe('the number of classes a kept adapter’s head predicts', () => {
  it('reads it from the head’s output weight in every encoder family and folder kind', () => {
    const peft = (names: [string, number[]][]) => ({
      'adapter_config.json': '{}',
      'adapter_model.safetensors': writeSafetensors(names.map(([n, s]) => tensor(n, s))),
    });
    const lora = ['base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight', [4, 16]] as [
      string,
      number[],
    ];
    // BERT and DistilBERT: classifier.weight [K, C]; the bias alone says nothing about its width.
    expect(
      adapterHeadClasses(
        peft([
          lora,
          ['base_model.model.classifier.bias', [3]],
          ['base_model.model.classifier.weight', [3, 16]],
        ]),
      ),
    ).toBe(3);
    // RoBERTa: the head's dense layer is [C, C]; its out_proj holds the classes.
    expect(
      adapterHeadClasses(
        peft([
          ['base_model.model.classifier.dense.weight', [16, 16]],
          ['base_model.model.classifier.out_proj.weight', [5, 16]],
        ]),
      ),
    ).toBe(5);
    // Prompt learning keeps the head under base_model.; bottleneck folders are Whetstone's own file.
    expect(adapterHeadClasses(peft([['base_model.classifier.weight', [4, 16]]]))).toBe(4);
    expect(
      adapterHeadClasses({
        [bottleneckWeightsFile]: writeSafetensors([tensor('classifier.weight', [2, 16])]),
      }),
    ).toBe(2);
    expect(adapterHeadClasses(peft([lora]))).toBeUndefined();
    expect(adapterHeadClasses({ 'adapter_config.json': '{}' })).toBeUndefined();
  });
});
