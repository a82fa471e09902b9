/**
 * WebGPU in Node through Dawn (the `webgpu` npm package).
 *
 * On a machine with no GPU driver, Debian's Chromium ships SwiftShader, a Vulkan driver that runs on
 * the CPU. We point the Vulkan loader at it when nothing else is configured. The loader library itself
 * (libvulkan.so.1) must be findable by the dynamic linker: either the system's `libvulkan1` package or
 * `LD_LIBRARY_PATH=/usr/lib/chromium`, which `nodeGpuEnvironment()` gives to child processes.
 */

export const swiftShaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';
const chromiumLibDir = '/usr/lib/chromium';
/** Where installed Vulkan drivers register themselves; a real GPU's driver must win over SwiftShader. */
export const systemIcdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];

/** Environment variables a Node process needs, at start-up, to reach SwiftShader through Dawn. */
export function nodeGpuEnvironment(
  env: Record<string, string | undefined>,
  exists: (p: string) => boolean,
  hasSystemDriver: () => boolean = () => systemIcdDirs.some(exists),
) {
  const extra: Record<string, string> = {};
  if (!exists(swiftShaderIcd)) return extra;
  if (!env.VK_ICD_FILENAMES && !hasSystemDriver()) extra.VK_ICD_FILENAMES = swiftShaderIcd;
  const ldPath = env.LD_LIBRARY_PATH ?? '';
  if (!ldPath.split(':').includes(chromiumLibDir)) {
    extra.LD_LIBRARY_PATH = ldPath ? `${ldPath}:${chromiumLibDir}` : chromiumLibDir;
  }
  return extra;
}

// Dawn tears its instance down when the `GPU` object is garbage-collected, even while devices made
// from it are alive (and then crashes the process), so the one instance is held here for good.
let instance: Promise<GPU> | undefined;

/** Loads Dawn once and returns its `GPU` object. */
export function loadNodeGpu(): Promise<GPU> {
  instance ??= createNodeGpu();
  return instance;
}

async function createNodeGpu(): Promise<GPU> {
  const { existsSync } = await import(/* @vite-ignore */ 'node:fs');
  // Read by the Vulkan loader when Dawn creates its instance, so setting it here, in-process, is enough.
  // Only without a driver of the machine's own: a GPU machine that also has Chromium keeps its GPU.
  const systemDriver = systemIcdDirs.some((dir) => existsSync(dir));
  if (!process.env.VK_ICD_FILENAMES && !systemDriver && existsSync(swiftShaderIcd)) {
    process.env.VK_ICD_FILENAMES = swiftShaderIcd;
  }
  const specifier = 'webgpu';
  const dawn = (await import(/* @vite-ignore */ specifier)) as {
    create(flags: string[]): GPU;
    globals: Record<string, unknown>;
  };
  // Dawn's constants (GPUBufferUsage, GPUMapMode, ...) are globals in a browser; make them so here.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  return dawn.create([]);
}
