/**
 * Gemma 2's and 3's sublayer post-norm (post_attention_layernorm, post_feedforward_layernorm): the sublayer's
 * output x is RMS-normalised with (1 + weight) into `out` before the residual add. Its backward takes the
 * residual stream's gradient and leaves the gradient of x; x and rrms are kept from the forward.
 */
import type { Dispatch } from '../../../gpu/dispatch';
import { rmsNormBackward, rmsNormForward } from '../../../gpu/kernels/rmsnorm/rmsnorm';
import type { Runtime } from '../../../gpu/runtime';
import type { Tensor } from '../../../gpu/tensor';

export interface PostNormSite {
  /** The parameter's name, e.g. "model.layers.3.post_attention_layernorm.weight". */
  name: string;
  weight: Tensor;
  x: Tensor;
  out: Tensor;
  rrms: Tensor;
  eps: number;
}

export interface PostNorm {
  forward(): Promise<Dispatch>;
  /** From the residual gradient dy to d(x), into dx. */
  backward(dy: Tensor, dx: Tensor): Promise<Dispatch[]>;
}

/** `weightGrad` gives the weight's gradient buffer when the weight trains (full fine-tuning). */
export function postNorm(
  runtime: Runtime,
  site: PostNormSite,
  weightGrad: (name: string) => Tensor | undefined,
): PostNorm {
  const { x, weight, rrms, eps } = site;
  return {
    forward: () => rmsNormForward(runtime, { x, weight, y: site.out, rrms, eps, weightOffset: 1 }),
    backward: (dy, dx) =>
      rmsNormBackward(runtime, { x, weight, rrms, dy, dx, dweight: weightGrad(site.name), weightOffset: 1 }),
  };
}
