/**
 * Launcher for the global gradient L2 norm and its clip coefficient (grad-norm.wgsl, then
 * grad-norm-finish.wgsl), as torch.nn.utils.clip_grad_norm_ computes them:
 *   norm = sqrt(Σ_tensors Σ_i g[i]²),  coefficient = min(1, maxNorm / (norm + 1e-6)),  maxNorm 0: 1.
 * Contract: writes clipState = [norm, coefficient, 0, 0] (a [4] f32 tensor, `createClipState`) and does
 * not touch the gradients; the optimizer kernels multiply by the coefficient as they read them.
 * Dispatches: ceil(T / 7) partial passes over the T gradient tensors and one finishing pass, all
 * deterministic (a fixed reduction order). The partials buffer is owned by the returned dispatches.
 * Cost: 2·Σ|g| FLOPs; fewest bytes 4·Σ|g| (every gradient read once), plus 8 bytes per workgroup.
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { createTensor, describeShape, type Tensor, writeTensor } from '../../tensor';
import partialsWgsl from './grad-norm.wgsl?raw';
import finishWgsl from './grad-norm-finish.wgsl?raw';

/** Gradient tensors one partial pass reads: 7 reads and 1 write fill WebGPU's minimum of 8. */
export const gradNormSlots = 7;
/**
 * Elements per workgroup: 128 per thread (32 vec4 loads), so the fold's fixed cost (its barriers and the
 * partial written) is small next to the loads, as memory-bound reductions want on GPUs; an 8M-element
 * tensor still spreads over 256 workgroups. (4096 spent most of the pass folding: 2.5× slower.)
 * src/train/plan/memory-plan.ts counts the partials with the same rule.
 */
const elementsPerGroup = 32768;
/** Workgroups per tensor: enough to fill a large GPU on one big tensor, few enough to fold in one pass. */
export const defaultGradNormMaxGroups = 512;

const partialsKernel: KernelDefinition = {
  name: 'grad-norm',
  wgsl: partialsWgsl,
  bindings: ['uniform', ...Array<'read'>(gradNormSlots).fill('read'), 'write'],
};

const finishKernel: KernelDefinition = {
  name: 'grad-norm-finish',
  wgsl: finishWgsl,
  bindings: ['uniform', 'read', 'write'],
};

/** Workgroups (and so partial sums) a tensor of `size` elements gets. */
export function gradNormGroups(size: number, maxGroups = defaultGradNormMaxGroups): number {
  return Math.min(maxGroups, Math.max(1, Math.ceil(size / elementsPerGroup)));
}

/** The [4] f32 clip state: [norm, coefficient, 0, 0]; starts as coefficient 1 (no clipping). */
export function createClipState(runtime: Runtime, label = 'clip state'): Tensor {
  const state = createTensor(runtime.arena, label, [4]);
  writeTensor(runtime.device, state, new Float32Array([0, 1, 0, 0]));
  return state;
}

export interface GradNormArgs {
  grads: readonly Tensor[];
  clipState: Tensor;
  /** Clip to this global norm; 0 computes the norm without clipping (coefficient 1). */
  maxNorm: number;
  /** Cap on workgroups per tensor (tests lower it to reach the strided loop on small tensors). */
  maxGroupsPerTensor?: number;
  label?: string;
}

export async function gradNorm(runtime: Runtime, args: GradNormArgs): Promise<Dispatch[]> {
  const label = args.label ?? 'grad norm';
  const { grads, clipState } = args;
  if (grads.length === 0) throw new Error(`${label}: no gradient tensors given.`);
  for (const g of grads) {
    if (g.dtype !== 'f32') throw new Error(`${label}: gradient ${describeShape(g)} is ${g.dtype}, not f32.`);
  }
  if (clipState.dtype !== 'f32' || clipState.size !== 4) {
    throw new Error(`${label}: clipState ${describeShape(clipState)} must be a [4] f32 tensor.`);
  }
  if (!(Number.isFinite(args.maxNorm) && args.maxNorm >= 0)) {
    throw new Error(`${label}: maxNorm must be finite and ≥ 0 (0 = no clipping), got ${args.maxNorm}.`);
  }
  const maxGroups = args.maxGroupsPerTensor ?? defaultGradNormMaxGroups;
  if (!(Number.isInteger(maxGroups) && maxGroups >= 1)) {
    throw new Error(`${label}: maxGroupsPerTensor must be a positive integer, got ${maxGroups}.`);
  }

  const groups = grads.map((g) => gradNormGroups(g.size, maxGroups));
  const partialCount = groups.reduce((a, b) => a + b, 0);
  const partials = runtime.arena.alloc(`${label} partials`, partialCount * 4);
  const dispatches: Dispatch[] = [];
  let partialBase = 0;
  for (let first = 0; first < grads.length; first += gradNormSlots) {
    const batch = grads.slice(first, first + gradNormSlots);
    const params = new Uint32Array(32);
    params.set([partialBase, batch.length]);
    let firstGroup = 0;
    batch.forEach((g, k) => {
      const n = groups[first + k] as number;
      params.set([g.size, firstGroup, n, 0], 4 + 4 * k);
      firstGroup += n;
    });
    const uniform = createUniform(runtime, 'uniforms', params.buffer);
    const slots = Array.from(
      { length: gradNormSlots },
      (_, k) => batch[k]?.buffer ?? runtime.placeholder.storage,
    );
    dispatches.push(
      await makeDispatch(runtime, {
        kernel: partialsKernel,
        buffers: [uniform, ...slots, partials],
        workgroups: [firstGroup, 1, 1],
        label: `${label} partials ${batch.map((g) => g.label).join(', ')}`,
        owned: first === 0 ? [uniform, partials] : [uniform],
      }),
    );
    partialBase += firstGroup;
  }

  const finishParams = new ArrayBuffer(16);
  new Uint32Array(finishParams, 0, 1)[0] = partialCount;
  new Float32Array(finishParams, 4, 1)[0] = args.maxNorm;
  const uniform = createUniform(runtime, 'uniforms', finishParams);
  dispatches.push(
    await makeDispatch(runtime, {
      kernel: finishKernel,
      buffers: [uniform, partials, clipState.buffer],
      workgroups: [1, 1, 1],
      label: `${label} finish`,
      owned: [uniform],
    }),
  );
  return dispatches;
}
