/**
 * A Gemma 3 model through the CLI as a user runs it: `make-tiny-model --family gemma3` writes one (with
 * the four norms per layer and a sliding window of 4 on every other layer, which the 64-token rows pass);
 * full fine-tuning trains the norms and saves them as Gemma stores them (w of 1 + w). (LoRA's CLI path is
 * the same for every family and learns to a stated loss in loraplus-cli and qlora-cli; Gemma 3's LoRA merge is checked in
 * merge-adapter.node.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { safetensorsToTensors } from '../train/peft/format/tensor-files';
import {
  evalLoss,
  expectSameLoss,
  tinyCliWorkspace,
  trainAdapter,
  whetstone,
} from './testing/cli-method-test';

const ws = tinyCliWorkspace('gemma3', 3, 'gemma3');

const readTensors = (dir: string) =>
  safetensorsToTensors('model.safetensors', readFileSync(join(dir, 'model.safetensors')));

describe('Gemma 3 through the CLI', () => {
  it('make-tiny-model --family gemma3 writes a Gemma3ForCausalLM with its four norms per layer', () => {
    const out = join(ws.dir, 'made');
    whetstone('make-tiny-model', '--family', 'gemma3', '--out', out);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['Gemma3ForCausalLM'],
      model_type: 'gemma3_text',
      layer_types: ['sliding_attention', 'full_attention'],
      sliding_window: 4,
    });
    const tensors = readTensors(out);
    for (const norm of ['post_attention', 'pre_feedforward', 'post_feedforward'])
      expect(tensors.get(`model.layers.1.${norm}_layernorm.weight`)?.shape, norm).toEqual([32]);
  });

  it('full fine-tuning trains the norms and saves them as Gemma stores them', () => {
    const { out, trainedEval: lastEval } = trainAdapter(ws, 'full', ['--lr', '0.01'], 'full', {
      batchSize: 3,
    });
    const [before, after] = [readTensors(ws.model), readTensors(out)];
    for (const name of [
      'model.layers.0.post_attention_layernorm.weight',
      'model.layers.1.post_feedforward_layernorm.weight',
      'model.layers.1.self_attn.k_norm.weight',
      'model.norm.weight',
    ]) {
      const [was, now] = [before.get(name)?.data, after.get(name)?.data];
      const moved = Array.from(now ?? [], (v, i) => Math.abs(v - (was?.[i] ?? 0)));
      // Trained, and still w, not 1 + w: three small steps move it by far less than 1.
      expect(Math.max(...moved), name).toBeGreaterThan(1e-4);
      expect(Math.max(...moved), name).toBeLessThan(0.1);
    }
    expectSameLoss(evalLoss(ws, out), lastEval);
  });
});
