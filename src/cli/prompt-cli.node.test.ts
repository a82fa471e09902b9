/**
 * `whetstone train --method prompt`, `eval --adapter` and `generate --adapter` as a user runs them, on a
 * tiny model written to disk: the prompt-tuning adapter is written in PEFT's format
 * (prompt_embeddings [num_virtual_tokens, C]), evaluating it gives the trainer's own validation loss,
 * and generation runs with it.
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

const ws = tinyCliWorkspace('prompt');

describe('whetstone train --method prompt', () => {
  it('writes a PEFT prompt-tuning adapter that eval and generate load', () => {
    const { out, lines, trainedEval } = trainAdapter(ws, 'prompt', ['--num-virtual-tokens', '6']);
    // 6 virtual tokens of width 32 train.
    expect(lines.at(-1)).toMatchObject({ done: true, method: 'prompt', steps: 3, trainable_params: 6 * 32 });
    // PEFT's example rate is the default.
    expect(lines[0]).toMatchObject({ step: 1, lr: 3e-2 });
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(adapterConfig(out)).toMatchObject({
      peft_type: 'PROMPT_TUNING',
      task_type: 'CAUSAL_LM',
      num_virtual_tokens: 6,
      token_dim: 32,
      num_transformer_submodules: 1,
      prompt_tuning_init: 'RANDOM',
    });
    const tensors = adapterTensors(out);
    expect([...tensors.keys()]).toEqual(['prompt_embeddings']);
    expect(tensors.get('prompt_embeddings')?.shape).toEqual([6, 32]);

    expectSameLoss(evalLoss(ws, ws.model, out), trainedEval);
    expect(generateIds(ws, out)).toHaveLength(4);
  }, 300_000);
});
