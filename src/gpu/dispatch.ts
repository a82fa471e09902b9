/**
 * A `Dispatch` is one compute dispatch with its pipeline and bind group made ahead of time.
 * Launchers return dispatches rather than running them, so the same work can run now (`submitDispatches`)
 * or be kept in a `RecordedStep` and replayed every training step.
 */
import type { KernelDefinition, OverrideConstants } from './pipeline-cache';
import type { Runtime } from './runtime';
import { packedFormat } from './tensor';

export type Workgroups = readonly [number, number, number];

export interface Dispatch {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: Workgroups;
  /** Buffers this dispatch owns (its uniforms); released with `releaseDispatches`. */
  readonly owned: readonly GPUBuffer[];
}

export interface DispatchSpec {
  kernel: KernelDefinition;
  constants?: OverrideConstants;
  /** One buffer per binding, in the kernel's binding order. */
  buffers: readonly GPUBuffer[];
  workgroups: Workgroups;
  label: string;
  owned?: readonly GPUBuffer[];
}

export async function makeDispatch(runtime: Runtime, spec: DispatchSpec): Promise<Dispatch> {
  const { kernel } = spec;
  if (spec.buffers.length !== kernel.bindings.length) {
    throw new Error(
      `Kernel ${kernel.name} takes ${kernel.bindings.length} buffers, got ${spec.buffers.length}.`,
    );
  }
  spec.buffers.forEach((buffer, binding) => {
    const format = packedFormat(buffer);
    const kind = kernel.bindings[binding];
    if (format === 'f16' && kind !== 'read-half')
      throw new Error(
        `${spec.label}: binding ${binding} of kernel ${kernel.name} reads f32, but ${buffer.label} holds half-precision values.`,
      );
    if (format === 'nf4' && kind !== 'read-nf4')
      throw new Error(
        `${spec.label}: binding ${binding} of kernel ${kernel.name} cannot read ${buffer.label}, which holds 4-bit NF4 values.`,
      );
  });
  const limit = runtime.device.limits.maxComputeWorkgroupsPerDimension;
  if (spec.workgroups.some((n) => n > limit)) {
    throw new Error(
      `${spec.label}: grid [${spec.workgroups.join(', ')}] exceeds ${limit} workgroups per dimension.`,
    );
  }
  const compiled = await runtime.pipelines.get(kernel, spec.constants);
  const bindGroup = runtime.device.createBindGroup({
    label: spec.label,
    layout: compiled.layout,
    entries: spec.buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  return {
    label: spec.label,
    pipeline: compiled.pipeline,
    bindGroup,
    workgroups: spec.workgroups,
    owned: spec.owned ?? [],
  };
}

/** A uniform buffer holding `data`, from the arena. */
export function createUniform(runtime: Runtime, label: string, data: ArrayBuffer): GPUBuffer {
  const buffer = runtime.arena.alloc(
    label,
    data.byteLength,
    GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  );
  runtime.device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

export function encodeDispatches(pass: GPUComputePassEncoder, dispatches: readonly Dispatch[]): void {
  for (const dispatch of dispatches) {
    pass.setPipeline(dispatch.pipeline);
    pass.setBindGroup(0, dispatch.bindGroup);
    pass.dispatchWorkgroups(...dispatch.workgroups);
  }
}

/** Encodes the dispatches into one compute pass and submits it. */
export function submitDispatches(runtime: Runtime, dispatches: readonly Dispatch[], label = 'eager'): void {
  const encoder = runtime.device.createCommandEncoder({ label });
  const pass = encoder.beginComputePass({ label });
  encodeDispatches(pass, dispatches);
  pass.end();
  runtime.device.queue.submit([encoder.finish()]);
}

export function releaseDispatches(runtime: Runtime, dispatches: readonly Dispatch[]): void {
  for (const dispatch of dispatches) for (const buffer of dispatch.owned) runtime.arena.release(buffer);
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}
