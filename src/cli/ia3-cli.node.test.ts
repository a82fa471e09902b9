/**
 * `whetstone train --method ia3` and `eval --adapter` as a user runs them, on a tiny model written to
 * disk: the IA3 adapter is written in PEFT's format with PEFT's default targets, and evaluating it gives
 * the trainer's own validation loss; `merge` folds the vectors into the weights with the same loss.
 */
import { readdirSync } from 'node:fs';
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

const ws = tinyCliWorkspace('ia3');

describe('whetstone train --method ia3', () => {
  it('writes a PEFT IA3 adapter that eval --adapter scores at the trainer’s validation loss', () => {
    const { out, lines, trainedEval } = trainAdapter(ws, 'ia3', ['--lr', '0.1']);
    expect(lines.at(-1)).toMatchObject({ done: true, method: 'ia3', steps: 3 });
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(adapterConfig(out)).toMatchObject({
      peft_type: 'IA3',
      target_modules: ['down_proj', 'k_proj', 'v_proj'],
      feedforward_modules: ['down_proj'],
    });
    const adapted = evalLoss(ws, ws.model, out);
    expectSameLoss(adapted, trainedEval);
    // Training moved the vectors off their starting ones, so the adapter is not the base model.
    const tensors = adapterTensors(out);
    expect(tensors.get('base_model.model.model.layers.0.mlp.down_proj.ia3_l')?.shape).toEqual([1, 48]);
    const moved = [...tensors.values()].flatMap((t) => [...t.data]).filter((v) => Math.abs(v - 1) > 1e-3);
    expect(moved.length).toBeGreaterThan(0);

    // Merged as PEFT merges IA3 (down_proj's input columns, k/v output rows), it scores the same loss.
    const merged = join(ws.dir, 'merged');
    expect(whetstone('merge', '--model', ws.model, '--adapter', out, '--out', merged)).toMatch(
      /merged \d+ ia3 layers/,
    );
    expectSameLoss(evalLoss(ws, merged), adapted);
    // Several CLI runs, each starting Dawn and compiling its pipelines; slow on shared CPUs.
  }, 300_000);
});
