/**
 * Full supervised fine-tuning: every base parameter trains, with a gradient of its own; the token
 * embeddings (and a tied LM head with them) can be frozen.
 */
import type { Runtime } from '../../gpu/runtime';
import { createTensor } from '../../gpu/tensor';
import type { DecoderModel } from '../models/decoder-step';
import type { ParamMap } from '../models/params';
import { embeddingName } from '../models/weight-shapes';
import { type Adaptation, baseLinearOp, type TrainableEntry } from './adaptation';

export interface FullOptions {
  freezeEmbeddings?: boolean;
}

export class FullFineTuning implements Adaptation {
  readonly method = 'full';
  readonly grads: ParamMap = new Map();

  constructor(
    runtime: Runtime,
    private readonly model: DecoderModel,
    options: FullOptions = {},
  ) {
    const frozenNames = options.freezeEmbeddings ? [embeddingName(model.config), 'wpe.weight'] : [];
    for (const [name, param] of model.params) {
      if ((param.dtype === 'f16' || param.dtype === 'nf4') && !frozenNames.includes(name))
        throw new Error(
          `${name} was loaded ${param.dtype === 'f16' ? 'in half precision' : 'quantized to NF4'}, for a frozen base; full fine-tuning trains it in f32. Load the model for 'full'.`,
        );
      if (!frozenNames.includes(name))
        this.grads.set(name, createTensor(runtime.arena, `grad ${name}`, param.shape));
    }
  }

  baseGrad(name: string) {
    return this.grads.get(name);
  }

  linear(site: Parameters<Adaptation['linear']>[0], ctx: Parameters<Adaptation['linear']>[1]) {
    const weight = this.grads.get(`${site.path}.weight`);
    const bias = this.grads.get(`${site.path}.bias`);
    return baseLinearOp(ctx.runtime, site.base, { ...(weight ? { weight } : {}), ...(bias ? { bias } : {}) });
  }

  trainable(): TrainableEntry[] {
    return [...this.grads].map(([name, grad]) => ({
      name,
      grad,
      param: this.model.params.get(name) as TrainableEntry['param'],
    }));
  }
}
