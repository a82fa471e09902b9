/**
 * `whetstone train --early-stopping-patience N`: a LoRA run at a rate that overfits the tiny corpus stops
 * N evaluations after its best, says so in its summary, and the adapter it saves is the best
 * evaluation's: `eval --adapter` scores it at the best validation loss, not the last one.
 */
import { describe, expect, it } from 'vitest';
import {
  evalLoss,
  expectSameLoss,
  tinyCliWorkspace,
  trainAdapter,
  whetstone,
} from './testing/cli-method-test';

const ws = tinyCliWorkspace('early-stopping', 3);

describe('whetstone train --early-stopping-patience', () => {
  it('stops after its patience and saves the best evaluation’s adapter', () => {
    const { out, lines } = trainAdapter(
      ws,
      'lora',
      [
        '--lora-r',
        '8',
        '--lr',
        '0.3',
        '--lr-schedule',
        'constant',
        '--eval-every',
        '1',
        '--early-stopping-patience',
        '2',
      ],
      'early',
      { steps: 40, batchSize: 3 },
    );
    const summary = lines.at(-1) as Record<string, number | boolean>;
    expect(summary).toMatchObject({ done: true, stopped_early: true });
    const evals = lines.filter((l) => typeof l.eval_loss === 'number' && 'step' in l && !('done' in l));
    const losses = evals.map((l) => l.eval_loss as number);
    expect(summary.best_eval_loss).toBe(Math.min(...losses));
    expect(summary.steps_run).toBe((summary.best_step as number) + 2);
    expect(summary.steps_run).toBeLessThan(40);
    // The last evaluation was worse than the best; the saved adapter is the best one.
    expect(losses.at(-1)).toBeGreaterThan(summary.best_eval_loss as number);
    expectSameLoss(evalLoss(ws, ws.model, out), summary.best_eval_loss as number);
  }, 300_000);

  it('plans the copy of the trainable weights it keeps', () => {
    const plan = (...flags: string[]) =>
      JSON.parse(whetstone('plan', '--model', ws.model, '--method', 'lora', ...flags, '--json'));
    const plain = plan();
    const stopping = plan('--early-stopping-patience', '3');
    expect(stopping.components.optimizer - plain.components.optimizer).toBe(4 * plain.parameters.trainable);
  });
});
