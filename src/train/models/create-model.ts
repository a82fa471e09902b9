/** Opens a checkpoint's model on the GPU: the family class for its architecture, parameters uploaded. */
import type { Runtime } from '../../gpu/runtime';
import type { Checkpoint } from '../io/checkpoint';
import type { DecoderModel } from './decoder-step';
import { Gpt2Model } from './gpt2';
import { LlamaModel } from './llama';
import { uploadParams } from './params';
import type { WeightUse } from './weight-storage';

/** `use` decides which weights may stay in half precision (weight-storage.ts); 'full' keeps all f32. */
export async function createDecoderModel(
  runtime: Runtime,
  checkpoint: Checkpoint,
  use: WeightUse = 'full',
): Promise<DecoderModel> {
  const params = await uploadParams(runtime, checkpoint, use);
  const config = checkpoint.config;
  return config.family === 'gpt2' ? new Gpt2Model(config, params) : new LlamaModel(config, params, runtime);
}
