/**
 * `whetstone train --method prefix`, `eval --adapter` and `generate --adapter` as a user runs them, on a
 * tiny model written to disk (with --prefix-projection and --grad-checkpointing on): the prefix-tuning
 * adapter is written in PEFT's format (prompt_embeddings [num_virtual_tokens, num_layers·2·token_dim],
 * the MLP's output), evaluating it gives the trainer's own validation loss, and generation runs with it.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  adapterConfig,
  adapterTensors,
  evalLoss,
  expectSameLoss,
  generateIds,
  tinyCliWorkspace,
  trainAdapter,
} from './testing/cli-method-test';

const ws = tinyCliWorkspace('prefix');

describe('whetstone train --method prefix', () => {
  it('writes a PEFT prefix-tuning adapter that eval and generate load', () => {
    const { out, lines, trainedEval } = trainAdapter(ws, 'prefix', [
      ...['--num-virtual-tokens', '6', '--prefix-projection', '--encoder-hidden-size', '24'],
      '--grad-checkpointing',
    ]);
    // The MLP trains: embedding [6, 16] (token_dim = 2 KV heads × 8), 16 → 24 → 2 layers·2·16.
    const trainable = 6 * 16 + (24 * 16 + 24) + (64 * 24 + 64);
    expect(lines.at(-1)).toMatchObject({
      done: true,
      method: 'prefix',
      steps: 3,
      trainable_params: trainable,
    });
    // PEFT's example rate is the default.
    expect(lines[0]).toMatchObject({ step: 1, lr: 1e-2 });
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(adapterConfig(out)).toMatchObject({
      peft_type: 'PREFIX_TUNING',
      task_type: 'CAUSAL_LM',
      num_virtual_tokens: 6,
      token_dim: 16,
      num_attention_heads: 2,
      num_layers: 2,
      num_transformer_submodules: 1,
      encoder_hidden_size: 24,
      prefix_projection: true,
    });
    const tensors = adapterTensors(out);
    expect([...tensors.keys()]).toEqual(['prompt_embeddings']);
    expect(tensors.get('prompt_embeddings')?.shape).toEqual([6, 2 * 2 * 16]);

    expectSameLoss(evalLoss(ws, ws.model, out), trainedEval);
    expect(generateIds(ws, out)).toHaveLength(4);
  }, 300_000);
});
