/**
 * The RoPE inverse-frequency tables of a decoder's layers, built once per model and shared by every
 * step: the model's own (rope_theta, with any scaling); Gemma 3's sliding layers' (rope_local_base_freq,
 * unscaled); and SmolLM3's NoPE layers' all-zero table, which rotates by frequency 0, the identity
 * (cos 1, sin 0, exact), so every layer keeps one path through RoPE at the cost of one elementwise pass.
 * They live in the runtime the model's weights were loaded into, not in whichever runtime plans a step,
 * so a step planned in memory of its own (DPO's reference pass) can free all of it afterwards.
 */
import { createRopeTable } from '../../../gpu/kernels/rope/rope';
import type { Runtime } from '../../../gpu/runtime';
import { type Tensor, uploadTensor } from '../../../gpu/tensor';
import { type DecoderConfig, slidingWindowAt } from '../config';

export class RopeTables {
  private global?: Tensor;
  private local?: Tensor;
  private identity?: Tensor;

  constructor(
    private readonly config: DecoderConfig,
    private readonly runtime: Runtime,
  ) {}

  /** The table layer `layer` rotates its q and k by, created on first use. */
  of(layer: number): Tensor {
    const { config: c, runtime } = this;
    if (c.nopeLayers?.includes(layer)) {
      this.identity ??= uploadTensor(runtime.arena, 'NoPE inv_freq', [c.D / 2], new Float32Array(c.D / 2));
      return this.identity;
    }
    if (c.localRopeTheta !== undefined && slidingWindowAt(c, layer) !== undefined) {
      this.local ??= createRopeTable(runtime, { headDim: c.D, theta: c.localRopeTheta });
      return this.local;
    }
    this.global ??= createRopeTable(runtime, { headDim: c.D, theta: c.ropeTheta, scaling: c.ropeScaling });
    return this.global;
  }
}
