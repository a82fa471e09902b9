/**
 * A plain, serialisable description of the WebGPU adapter and device, for the UI,
 * the CLI and benchmark reports. Only what the adapter itself says; nothing guessed.
 */

export interface OptionalFeatures {
  shaderF16: boolean;
  subgroups: boolean;
  timestampQuery: boolean;
}

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  optional: OptionalFeatures;
  limits: Record<string, number>;
}

const reportedLimits = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxBindGroups',
  'minStorageBufferOffsetAlignment',
] as const;

export function optionalFeaturesOf(features: GPUSupportedFeatures): OptionalFeatures {
  return {
    shaderF16: features.has('shader-f16'),
    subgroups: features.has('subgroups'),
    timestampQuery: features.has('timestamp-query'),
  };
}

export function describeAdapter(adapter: GPUAdapter, device: GPUDevice): AdapterReport {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const name of reportedLimits) limits[name] = device.limits[name];
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: [...device.features].sort(),
    optional: optionalFeaturesOf(device.features),
    limits,
  };
}
