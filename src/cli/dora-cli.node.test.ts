/**
 * `whetstone train --method dora` as a user runs it, on a tiny model written to disk (with LoRA dropout,
 * so the dropout form trains): the adapter folder is PEFT's DoRA layout ("use_dora": true, a
 * lora_magnitude_vector [out] beside every lora_A and lora_B), `eval --adapter` on it gives the
 * trainer's own validation loss, and `merge` folds the magnitudes in (PEFT's DoRA merge) so the merged
 * model scores that same loss with no adapter.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  adapterConfig,
  adapterTensors,
  evalLoss,
  expectSameLoss,
  tinyCliWorkspace,
  trainAdapter,
  whetstone,
} from './testing/cli-method-test';

const ws = tinyCliWorkspace('dora', 4);

describe('whetstone train --method dora', () => {
  it('writes a PEFT DoRA adapter that eval --adapter scores as the trainer did', () => {
    const { out, lines, trainedEval } = trainAdapter(ws, 'dora', [
      ...['--lora-r', '4', '--lora-alpha', '8', '--lora-dropout', '0.1'],
      ...['--target-modules', 'q_proj,v_proj,down_proj', '--lr', '0.02'],
    ]);
    expect(lines.at(-1)).toMatchObject({ done: true, method: 'dora', steps: 3 });
    expect(adapterConfig(out)).toMatchObject({
      peft_type: 'LORA',
      use_dora: true,
      r: 4,
      lora_alpha: 8,
      lora_dropout: 0.1,
    });
    const tensors = adapterTensors(out);
    const prefix = 'base_model.model.model.layers.1.';
    expect(tensors.get(`${prefix}self_attn.v_proj.lora_magnitude_vector`)?.shape).toEqual([16]);
    expect(tensors.get(`${prefix}mlp.down_proj.lora_magnitude_vector`)?.shape).toEqual([32]);
    const keys = [...tensors.keys()];
    expect(keys.filter((k) => k.endsWith('.lora_magnitude_vector'))).toHaveLength(6);
    expect(keys).toHaveLength(18);

    const adapted = evalLoss(ws, ws.model, out);
    expectSameLoss(adapted, trainedEval);
    expect(Math.abs(evalLoss(ws, ws.model) - trainedEval)).toBeGreaterThan(1e-3);

    const merged = join(ws.dir, 'merged');
    expect(whetstone('merge', '--model', ws.model, '--adapter', out, '--out', merged)).toMatch(
      /merged 6 dora layers/,
    );
    expectSameLoss(evalLoss(ws, merged), adapted);
    // Several CLI runs, each starting Dawn and compiling its pipelines; slow on shared CPUs.
  }, 300_000);
});
