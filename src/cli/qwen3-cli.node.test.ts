/**
 * A Qwen3 model (per-head q/k norms, attention wider than the residual stream) through the CLI as a user
 * runs it: `make-tiny-model --family qwen3` writes one; full fine-tuning trains the q/k norms and saves
 * them, and `eval` scores the saved model as the trainer did. (LoRA's CLI path is the same for every
 * family; it learns to a stated loss in loraplus-cli and qlora-cli and gemma3-cli.)
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

const ws = tinyCliWorkspace('qwen3', 3, 'qwen3');

describe('Qwen3 through the CLI', () => {
  it('make-tiny-model --family qwen3 writes a Qwen3ForCausalLM with q_norm and k_norm', () => {
    const out = join(ws.dir, 'made');
    whetstone('make-tiny-model', '--family', 'qwen3', '--out', out);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ architectures: ['Qwen3ForCausalLM'], head_dim: 16, hidden_size: 32 });
    const tensors = safetensorsToTensors('model.safetensors', readFileSync(join(out, 'model.safetensors')));
    expect(tensors.get('model.layers.1.self_attn.k_norm.weight')?.shape).toEqual([16]);
  });

  it('full fine-tuning trains the per-head norms and saves them', () => {
    const { out, trainedEval: lastEval } = trainAdapter(ws, 'full', ['--lr', '0.01'], 'full', {
      batchSize: 3,
    });
    const before = safetensorsToTensors(
      'model.safetensors',
      readFileSync(join(ws.model, 'model.safetensors')),
    );
    const after = safetensorsToTensors('model.safetensors', readFileSync(join(out, 'model.safetensors')));
    for (const name of ['model.layers.0.self_attn.q_norm.weight', 'model.layers.1.self_attn.k_norm.weight']) {
      const [was, now] = [before.get(name)?.data, after.get(name)?.data];
      expect(now?.length, name).toBe(16);
      const moved = Array.from(now ?? [], (v, i) => Math.abs(v - (was?.[i] ?? 0)));
      expect(Math.max(...moved), name).toBeGreaterThan(1e-4);
    }
    expectSameLoss(evalLoss(ws, out), lastEval);
  });
});
