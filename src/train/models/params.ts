/** Model parameters on the GPU, by Hugging Face name, as the checkpoint stores them. */
import type { Runtime } from '../../gpu/runtime';
import { type Tensor, uploadTensor } from '../../gpu/tensor';
import type { Checkpoint } from '../io/checkpoint';

export type ParamMap = Map<string, Tensor>;

export async function uploadParams(runtime: Runtime, checkpoint: Checkpoint): Promise<ParamMap> {
  const params: ParamMap = new Map();
  for (const [name, stored] of checkpoint.weights) {
    params.set(name, uploadTensor(runtime.arena, name, stored.shape, await checkpoint.read(name)));
  }
  return params;
}

export function requireTensor(map: ParamMap, name: string): Tensor {
  const t = map.get(name);
  if (!t) throw new Error(`No tensor ${name}.`);
  return t;
}
