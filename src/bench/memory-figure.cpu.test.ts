/**
 * The memory figure's arithmetic on made-up peaks: the prediction is the planner's gradient + optimizer
 * (+ half-precision weight) difference, and the target holds only within 10% of it and with LoRA's peak below full's.
 */
import { describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../train/fixtures/tiny-models';
import { parseModelConfig } from '../train/models/config';
import { planMemory } from '../train/plan';
import { memoryFigures, memoryLines } from './memory-figure';
import type { CaseResult } from './run-case';

const config = parseModelConfig(JSON.parse(tinyModelFiles({ family: 'llama' })['config.json'] as string));
const step = { batchSize: 2, seqLen: 32 };
const state = (p: ReturnType<typeof planMemory>) => p.components.gradients + p.components.optimizer;
const predicted =
  state(planMemory(config, { method: 'full' }, step)) -
  state(planMemory(config, { method: 'lora', r: 8 }, step));

const run = (method: CaseResult['method'], peakBytes: number) =>
  ({ shape: 'tiny', method, B: 2, T: 32, whetstone: { peakBytes } }) as unknown as CaseResult;

describe('memoryFigures', () => {
  it('holds when the measured saving matches the prediction', () => {
    const [figure] = memoryFigures(
      [run('lora-r8', 5e6 - predicted * 0.95), run('full', 5e6)],
      new Map([['tiny', config]]),
    );
    expect(predicted).toBeGreaterThan(0);
    expect(figure?.predictedSavingBytes).toBe(predicted);
    expect(figure?.relativeError).toBeCloseTo(0.05, 6);
    expect(figure?.holds).toBe(true);
    expect(memoryLines(figure ? [figure] : []).join('\n')).toContain('yes');
  });

  it('does not hold when the saving is half the prediction, or when LoRA is larger', () => {
    const configs = new Map([['tiny', config]]);
    expect(memoryFigures([run('lora-r8', 5e6 - predicted / 2), run('full', 5e6)], configs)[0]?.holds).toBe(
      false,
    );
    expect(memoryFigures([run('lora-r8', 6e6), run('full', 5e6)], configs)[0]?.holds).toBe(false);
  });

  it('counts, for a 16-bit checkpoint, the frozen matrices LoRA keeps in half precision', () => {
    const bf16 = parseModelConfig(
      JSON.parse(tinyModelFiles({ family: 'llama', weightDtype: 'BF16' })['config.json'] as string),
    );
    const halfSaved =
      planMemory(bf16, { method: 'full' }, step).components.weights -
      planMemory(bf16, { method: 'lora', r: 8 }, step).components.weights;
    expect(halfSaved).toBeGreaterThan(0);
    const [figure] = memoryFigures(
      [run('lora-r8', 5e6 - predicted - halfSaved), run('full', 5e6)],
      new Map([['tiny', bf16]]),
    );
    expect(figure?.predictedSavingBytes).toBe(predicted + halfSaved);
    expect(figure?.holds).toBe(true);
  });
});
