/**
 * Kernel registry and pipeline cache. A kernel is WGSL plus an explicit bind-group layout; a pipeline
 * is that kernel specialised with `override` constants. Pipelines are keyed by kernel name and constants,
 * made once with `createComputePipelineAsync`, and labelled.
 *
 * Debug switch: set `WHETSTONE_DUMP_WGSL` (environment in Node, `globalThis` in a browser) to a comma
 * list of kernel names, or `*`, to print their WGSL when first compiled.
 */

/**
 * How a kernel sees each binding, in binding order; 'read-half' reads packed binary16, 'read-nf4' 4-bit
 * NormalFloat blocks (tensor.ts).
 */
export type BindingKind = 'uniform' | 'read' | 'read-half' | 'read-nf4' | 'write';

export interface KernelDefinition {
  readonly name: string;
  readonly wgsl: string;
  readonly bindings: readonly BindingKind[];
  readonly entryPoint?: string;
}

export type OverrideConstants = Record<string, number | boolean>;

export interface CompiledKernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

export function pipelineKey(kernel: KernelDefinition, constants: OverrideConstants): string {
  const parts = Object.keys(constants)
    .sort()
    .map((name) => `${name}=${Number(constants[name])}`);
  return `${kernel.name}(${parts.join(',')})`;
}

function dumpRequested(name: string): boolean {
  const fromGlobal = (globalThis as { WHETSTONE_DUMP_WGSL?: string }).WHETSTONE_DUMP_WGSL;
  const fromEnv = typeof process !== 'undefined' ? process.env?.WHETSTONE_DUMP_WGSL : undefined;
  const list = (fromGlobal ?? fromEnv ?? '').split(',').map((s) => s.trim());
  return list.includes('*') || list.includes(name);
}

const bindingLayout: Record<BindingKind, GPUBufferBindingLayout> = {
  uniform: { type: 'uniform' },
  read: { type: 'read-only-storage' },
  'read-half': { type: 'read-only-storage' },
  'read-nf4': { type: 'read-only-storage' },
  write: { type: 'storage' },
};

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<CompiledKernel>>();
  private readonly layouts = new Map<
    string,
    { bindGroup: GPUBindGroupLayout; pipeline: GPUPipelineLayout }
  >();
  private readonly modules = new Map<string, GPUShaderModule>();

  constructor(readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(kernel: KernelDefinition, constants: OverrideConstants = {}): Promise<CompiledKernel> {
    const key = pipelineKey(kernel, constants);
    let compiled = this.pipelines.get(key);
    if (!compiled) {
      compiled = this.compile(kernel, constants, key);
      this.pipelines.set(key, compiled);
      // A failed compile must not poison the cache for a later, fixed attempt.
      compiled.catch(() => this.pipelines.delete(key));
    }
    return compiled;
  }

  private async compile(kernel: KernelDefinition, constants: OverrideConstants, key: string) {
    const { bindGroup, pipeline: layout } = this.layoutFor(kernel);
    const pipeline = await this.device.createComputePipelineAsync({
      label: key,
      layout,
      compute: {
        module: this.moduleFor(kernel),
        entryPoint: kernel.entryPoint ?? 'main',
        constants: Object.fromEntries(Object.entries(constants).map(([k, v]) => [k, Number(v)])),
      },
    });
    return { pipeline, layout: bindGroup };
  }

  private moduleFor(kernel: KernelDefinition): GPUShaderModule {
    let module = this.modules.get(kernel.name);
    if (!module) {
      if (dumpRequested(kernel.name)) console.log(`// WGSL of kernel "${kernel.name}"\n${kernel.wgsl}`);
      module = this.device.createShaderModule({ label: kernel.name, code: kernel.wgsl });
      this.modules.set(kernel.name, module);
    }
    return module;
  }

  private layoutFor(kernel: KernelDefinition) {
    let layout = this.layouts.get(kernel.name);
    if (!layout) {
      const bindGroup = this.device.createBindGroupLayout({
        label: `${kernel.name} bindings`,
        entries: kernel.bindings.map((kind, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: bindingLayout[kind],
        })),
      });
      const pipeline = this.device.createPipelineLayout({
        label: `${kernel.name} layout`,
        bindGroupLayouts: [bindGroup],
      });
      layout = { bindGroup, pipeline };
      this.layouts.set(kernel.name, layout);
    }
    return layout;
  }
}
