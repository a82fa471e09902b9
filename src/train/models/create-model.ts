/** Opens a checkpoint's model on the GPU: the family class for its architecture, parameters uploaded. */
import type { Runtime } from '../../gpu/runtime';
import type { Checkpoint } from '../io/checkpoint';
import type { DecoderModel } from './decoder-step';
import { Gpt2Model } from './gpt2';
import { LlamaModel } from './llama';
import { uploadParams } from './params';

export async function createDecoderModel(runtime: Runtime, checkpoint: Checkpoint): Promise<DecoderModel> {
  const params = await uploadParams(runtime, checkpoint);
  const config = checkpoint.config;
  return config.family === 'gpt2' ? new Gpt2Model(config, params) : new LlamaModel(config, params);
}
