/**
 * What the frozen-storage tests (half-weights, nf4-weights) share: four AdamW steps of a tiny run on an
 * arena of its own, reporting the losses, the bytes the loaded weights took, the whole run's peak and
 * the dtype of every loaded weight.
 */
import { CaseArena } from '../../../gpu/case-arena';
import type { Runtime } from '../../../gpu/runtime';
import type { DType } from '../../../gpu/tensor';
import { testRuntime } from '../../../gpu/testing/test-runtime';
import type { TokenExample } from '../../batches';
import type { Checkpoint } from '../../io/checkpoint';
import { createAdaptation } from '../../plan/adaptation-settings';
import type { MethodSettings } from '../../plan/method-settings';
import { defaultTrainConfig } from '../../train-config';
import { Trainer } from '../../trainer';
import { createDecoderModel } from '../create-model';
import type { WeightUse } from '../weight-storage';

const examples = (count: number, T: number): TokenExample[] =>
  Array.from({ length: count }, (_, e) => ({
    ids: Array.from({ length: T }, (_, t) => (7 * e + 3 * t) % 250),
  }));

export interface FourSteps {
  losses: number[];
  weightBytes: number;
  peak: number;
  dtypes: DType[];
}

/** Batches of 2 rows of 16 tokens at lr 1e-2; the plan of such a run is planMemory(…, { batchSize: 2, seqLen: 16 }). */
export async function trainFourSteps(
  checkpoint: Checkpoint,
  method: MethodSettings,
  use: WeightUse,
): Promise<FourSteps> {
  const base = await testRuntime();
  const arena = new CaseArena(base.device);
  const runtime: Runtime = { ...base, arena };
  try {
    const decoder = await createDecoderModel(runtime, checkpoint, use);
    const dtypes = [...decoder.params.values()].map((t) => t.dtype);
    const weightBytes = arena.stats().liveBytes;
    const adaptation = await createAdaptation(runtime, decoder, method, 5);
    const config = { ...defaultTrainConfig, steps: 4, batchSize: 2, seqLen: 16, lr: 1e-2, warmupSteps: 0 };
    const trainer = new Trainer(runtime, decoder, adaptation, config, examples(8, 16), []);
    const losses: number[] = [];
    for await (const event of trainer.run()) if (event.kind === 'step') losses.push(event.loss);
    return { losses, weightBytes, peak: arena.stats().peakLiveBytes, dtypes };
  } finally {
    arena.destroyAll();
  }
}
