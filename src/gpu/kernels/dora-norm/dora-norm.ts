/**
 * Launcher for DoRA's weight norm (dora-norm.wgsl), Liu et al. 2024, "DoRA: Weight-Decomposed Low-Rank
 * Adaptation", as PEFT computes it (tuners/lora/dora.py, `DoraLinearLayer.get_weight_norm`):
 *   norm[o] = ‖W[o, :] + s·(B·A)[o, :]‖₂   for every output row o,
 * with W read in its stored layout (GPT-2's Conv1D [IN, OUT] is transposed first, as PEFT's
 * fan_in_fan_out). W + s·B·A is never written to memory.
 *
 * W may be 'f16' (a frozen base weight kept in half precision) or 'nf4' (quantized as QLoRA does); the
 * arithmetic stays f32.
 * Shapes: W [OUT, IN] ('out-in') or [IN, OUT] ('in-out')   A [r, IN]   B [OUT, r]   norm [OUT]
 * No backward: PEFT detaches the norm (the paper's §4.3), so no gradient flows through it.
 * Cost: 2·OUT·IN·r + 3·OUT·IN FLOPs; fewest bytes 4·(OUT·IN + r·IN + OUT·r + OUT). This tiling reads A
 * once per 16 output rows and B once per 16 input columns (from cache on a real GPU).
 */
import { ceilDiv, createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import nf4LevelsWgsl from '../matmul/nf4-levels.wgsl?raw';
import doraNormWgsl from './dora-norm.wgsl?raw';
import halfWWgsl from './dora-norm-w-f16.wgsl?raw';
import floatWWgsl from './dora-norm-w-f32.wgsl?raw';
import nf4WWgsl from './dora-norm-w-nf4.wgsl?raw';

const doraNormKernel: KernelDefinition = {
  name: 'dora-norm',
  wgsl: `${doraNormWgsl}\n${floatWWgsl}`,
  bindings: ['uniform', 'read', 'read', 'read', 'write'],
};

/** The same norm of a base weight kept in half precision. */
const doraNormHalfWKernel: KernelDefinition = {
  name: 'dora-norm-half-w',
  wgsl: `${doraNormWgsl}\n${halfWWgsl}`,
  bindings: ['uniform', 'read-half', 'read', 'read', 'write'],
};

/** The same norm of a base weight in 4-bit NormalFloat blocks. */
const doraNormNf4WKernel: KernelDefinition = {
  name: 'dora-norm-nf4-w',
  wgsl: `${nf4LevelsWgsl}\n${doraNormWgsl}\n${nf4WWgsl}`,
  bindings: ['uniform', 'read-nf4', 'read', 'read', 'write'],
};

const kernelForW = { f32: doraNormKernel, f16: doraNormHalfWKernel, nf4: doraNormNf4WKernel } as const;

const rowsPerGroup = 16;

export interface DoraNormArgs {
  weight: Tensor;
  weightLayout: 'out-in' | 'in-out';
  loraA: Tensor;
  loraB: Tensor;
  /** s = alpha/r, or alpha/√r with rsLoRA. */
  scale: number;
  norm: Tensor;
  label?: string;
}

export async function doraNorm(runtime: Runtime, args: DoraNormArgs): Promise<Dispatch> {
  const label = args.label ?? `dora norm ${args.weight.label}`;
  const fail = (detail: string) => {
    const shape = (t: Tensor) => `${t.label} [${t.shape.join(', ')}]`;
    return new Error(
      `${label}: ${detail} (W ${shape(args.weight)} ${args.weightLayout}, A ${shape(args.loraA)}, ` +
        `B ${shape(args.loraB)}, norm ${shape(args.norm)}).`,
    );
  };
  if (args.weight.shape.length !== 2 || args.loraA.shape.length !== 2 || args.loraB.shape.length !== 2)
    throw fail('W, A and B must be matrices');
  const { dtype } = args.weight;
  if (dtype !== 'f32' && dtype !== 'f16' && dtype !== 'nf4') throw fail(`W cannot be ${dtype}`);
  const [rows, cols] = args.weight.shape as [number, number];
  const [OUT, IN] = args.weightLayout === 'in-out' ? [cols, rows] : [rows, cols];
  const r = args.loraA.shape[0] as number;
  if (args.loraA.shape[1] !== IN) throw fail(`A must be [r, ${IN}]`);
  if (args.loraB.shape[0] !== OUT || args.loraB.shape[1] !== r) throw fail(`B must be [${OUT}, ${r}]`);
  if (args.norm.size !== OUT) throw fail(`norm must have ${OUT} elements`);

  const params = new ArrayBuffer(16);
  new Uint32Array(params, 0, 3).set([OUT, IN, r]);
  new Float32Array(params, 12, 1)[0] = args.scale;
  const uniform = createUniform(runtime, 'uniforms', params);
  return makeDispatch(runtime, {
    kernel: kernelForW[dtype],
    constants: { W_IN_OUT: args.weightLayout === 'in-out' },
    buffers: [uniform, args.weight.buffer, args.loraA.buffer, args.loraB.buffer, args.norm.buffer],
    workgroups: [ceilDiv(OUT, rowsPerGroup), 1, 1],
    label,
    owned: [uniform],
  });
}
