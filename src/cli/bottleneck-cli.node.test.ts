/**
 * `whetstone train --method adapter` and `eval --adapter` as a user runs them, on a tiny model written
 * to disk: the bottleneck adapter is written in Whetstone's own format with the requested reduction
 * factor, and evaluating it gives the trainer's own validation loss.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  adapterConfig,
  adapterTensors,
  evalLoss,
  expectSameLoss,
  spawnWhetstone,
  tinyCliWorkspace,
  trainAdapter,
} from './testing/cli-method-test';

const ws = tinyCliWorkspace('bottleneck');

describe('whetstone train --method adapter', () => {
  it('writes a bottleneck adapter that eval --adapter scores at the trainer’s validation loss', () => {
    const { out, lines, trainedEval } = trainAdapter(ws, 'adapter', [
      '--reduction-factor',
      '4',
      '--lr',
      '0.05',
    ]);
    // Two layers, two positions, each down [8, 32] + [8] and up [32, 8] + [32].
    expect(lines.at(-1)).toMatchObject({
      done: true,
      method: 'adapter',
      steps: 3,
      trainable_params: 4 * 552,
    });
    expect(readdirSync(out).sort()).toEqual([
      'whetstone_adapter.safetensors',
      'whetstone_adapter_config.json',
    ]);
    expect(adapterConfig(out, 'whetstone_adapter_config.json')).toMatchObject({
      adapter_type: 'bottleneck',
      reduction_factor: 4,
      bottleneck_size: 8,
      non_linearity: 'relu',
      positions: ['attention', 'ffn'],
      hidden_size: 32,
      num_layers: 2,
      base_model_name_or_path: ws.model,
    });
    const tensors = adapterTensors(out, 'whetstone_adapter.safetensors');
    expect(tensors.get('adapters.layers.1.ffn.up.weight')?.shape).toEqual([32, 8]);
    // Trained: the up projections have left zero.
    expect(tensors.get('adapters.layers.1.ffn.up.weight')?.data.some((v) => v !== 0)).toBe(true);

    const adapted = evalLoss(ws, ws.model, out);
    expectSameLoss(adapted, trainedEval);
    expect(Math.abs(evalLoss(ws, ws.model) - trainedEval)).toBeGreaterThan(1e-3);
  }, 300_000);

  it('refuses a reduction factor that leaves no bottleneck, as a usage error', () => {
    const run = spawnWhetstone(
      ...['train', '--model', ws.model, '--data', ws.data, '--method', 'adapter'],
      ...['--reduction-factor', '64', '--out', join(ws.dir, 'x')],
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--reduction-factor 64 is not valid/);
  });
});
