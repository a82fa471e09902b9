/** Opens a checkpoint's model on the GPU: the family class for its architecture, parameters uploaded. */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor } from '../../gpu/tensor';
import type { Checkpoint } from '../io/checkpoint';
import type { DecoderModel } from './decoder-step';
import { Gpt2Model } from './gpt2';
import { LlamaModel } from './llama';
import { joinColumns, type ParamMap, requireTensor, uploadParams } from './params';

export async function createDecoderModel(runtime: Runtime, checkpoint: Checkpoint): Promise<DecoderModel> {
  const params = await uploadParams(runtime, checkpoint);
  const config = checkpoint.config;
  return config.family === 'gpt2' ? new Gpt2Model(config, params) : new LlamaModel(config, params);
}

/** Reads a parameter-shaped map back under Hugging Face's names (GPT-2's c_attn pieces joined). */
export async function downloadByHfName(
  runtime: Runtime,
  map: ParamMap,
  name: string,
  shape: number[],
): Promise<Float32Array> {
  const fused = /^(h\.\d+\.attn\.c_attn)\.(weight|bias)$/.exec(name);
  if (!fused) return downloadTensor(runtime.arena, requireTensor(map, name));
  const [, prefix, kind] = fused;
  const parts = await Promise.all(
    ['q', 'k', 'v'].map((p) => downloadTensor(runtime.arena, requireTensor(map, `${prefix}.${p}.${kind}`))),
  );
  return joinColumns(parts, kind === 'weight' ? (shape[0] as number) : 1);
}
