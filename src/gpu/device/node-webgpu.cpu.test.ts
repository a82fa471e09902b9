import { describe, expect, it } from 'vitest';
import { nodeGpuEnvironment, swiftShaderIcd } from './node-webgpu';

describe('the Node GPU environment', () => {
  const only =
    (...paths: string[]) =>
    (p: string) =>
      paths.includes(p);

  it('points the Vulkan loader at SwiftShader on a machine without a driver of its own', () => {
    expect(nodeGpuEnvironment({}, only(swiftShaderIcd))).toEqual({
      VK_ICD_FILENAMES: swiftShaderIcd,
      LD_LIBRARY_PATH: '/usr/lib/chromium',
    });
  });

  it('leaves a real GPU driver, or a chosen one, alone', () => {
    expect(
      nodeGpuEnvironment({}, only(swiftShaderIcd, '/usr/share/vulkan/icd.d')).VK_ICD_FILENAMES,
    ).toBeUndefined();
    expect(
      nodeGpuEnvironment({ VK_ICD_FILENAMES: '/x.json' }, only(swiftShaderIcd)).VK_ICD_FILENAMES,
    ).toBeUndefined();
  });

  it('sets nothing without Chromium', () => {
    expect(nodeGpuEnvironment({}, only())).toEqual({});
  });
});
