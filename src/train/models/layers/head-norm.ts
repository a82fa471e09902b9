/**
 * Qwen3's and Gemma 3's per-head RMSNorm (q_norm and k_norm): each head's D query or key values are
 * normalised with one weight [D] shared by every head, between the projection and RoPE. The projection's
 * output x [N, heads·D] and the per-row statistic rrms [N·heads] are kept for the backward; the
 * normalised values only feed RoPE, so their buffer can be scratch shared by every layer.
 */
import type { Dispatch } from '../../../gpu/dispatch';
import { rmsNormBackward, rmsNormForward } from '../../../gpu/kernels/rmsnorm/rmsnorm';
import type { Runtime } from '../../../gpu/runtime';
import { reshapeTensor, type Tensor } from '../../../gpu/tensor';
import { type ParamMap, requireTensor } from '../params';

export interface HeadNormSite {
  /** The parameter's name, e.g. "model.layers.3.self_attn.q_norm.weight". */
  name: string;
  /** The projection's output [N, heads·D]. */
  x: Tensor;
  heads: number;
  headDim: number;
  /** [N, heads·D]: the normalised heads, RoPE's input. */
  normed: Tensor;
  /** [N·heads]: 1 / RMS of each head's row, for the backward. */
  rrms: Tensor;
  eps: number;
  /** Gemma's (1 + weight): 1; 0 or absent otherwise. */
  weightOffset?: number;
}

export interface HeadNorm {
  /** RoPE's input: the normalised heads. */
  readonly normed: Tensor;
  forward(): Promise<Dispatch>;
  /** From d(normed), as RoPE's backward leaves it in dNormed, to d(projection) in dx. */
  backward(dNormed: Tensor, dx: Tensor): Promise<Dispatch[]>;
}

/** `weightGrad` gives the weight's gradient buffer when the weight trains (full fine-tuning). */
export function headNorm(
  runtime: Runtime,
  params: ParamMap,
  site: HeadNormSite,
  weightGrad: (name: string) => Tensor | undefined,
): HeadNorm {
  const weight = requireTensor(params, site.name);
  const rows = (t: Tensor) => reshapeTensor(t, [t.size / site.headDim, site.headDim]);
  return {
    normed: site.normed,
    forward: () =>
      rmsNormForward(runtime, {
        x: rows(site.x),
        weight,
        y: rows(site.normed),
        rrms: site.rrms,
        eps: site.eps,
        weightOffset: site.weightOffset,
        label: site.name,
      }),
    backward: (dNormed, dx) =>
      rmsNormBackward(runtime, {
        x: rows(site.x),
        weight,
        rrms: site.rrms,
        dy: rows(dNormed),
        dx: rows(dx),
        dweight: weightGrad(site.name),
        weightOffset: site.weightOffset,
        label: `${site.name} backward`,
      }),
  };
}
