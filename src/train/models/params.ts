/** Model parameters on the GPU, by Hugging Face name, as the checkpoint stores them. */

import type { Runtime } from '../../gpu/runtime';
import { type Tensor, uploadHalfTensor, uploadNf4Tensor, uploadTensor } from '../../gpu/tensor';
import { halfBitsOf } from '../../numeric/half';
import { quantizeNf4 } from '../../numeric/nf4';
import type { Checkpoint } from '../io/checkpoint';
import { storedDtype, type WeightUse } from './weight-storage';

export type ParamMap = Map<string, Tensor>;

export async function uploadParams(
  runtime: Runtime,
  checkpoint: Checkpoint,
  use: WeightUse = 'full',
): Promise<ParamMap> {
  const params: ParamMap = new Map();
  for (const [name, stored] of checkpoint.weights) {
    const values = await checkpoint.read(name);
    const dtype = storedDtype(checkpoint.config, use, name, stored.shape);
    if (dtype === 'nf4') {
      params.set(name, uploadNf4Tensor(runtime.arena, name, stored.shape, quantizeNf4(values, name)));
      continue;
    }
    if (dtype === 'f16') {
      const { bits, overflow } = halfBitsOf(values);
      // A BF16 weight beyond 65504 has no binary16 value: that tensor stays f32 rather than turn infinite.
      if (!overflow) {
        params.set(name, uploadHalfTensor(runtime.arena, name, stored.shape, bits));
        continue;
      }
    }
    params.set(name, uploadTensor(runtime.arena, name, stored.shape, values));
  }
  return params;
}

export function requireTensor(map: ParamMap, name: string): Tensor {
  const t = map.get(name);
  if (!t) throw new Error(`No tensor ${name}.`);
  return t;
}
