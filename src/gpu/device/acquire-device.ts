/**
 * `acquireDevice()`: one way to get a WebGPU device in a page, a dedicated worker, or Node (Dawn).
 *
 * Contract: it asks for the adapter's largest buffer limits and every optional feature we can use
 * (`shader-f16`, `subgroups`, `timestamp-query`), and turns device loss and uncaptured errors into
 * the named errors of `errors.ts`, delivered to `onError` listeners and to `lost`.
 */
import {
  type AdapterReport,
  describeAdapter,
  type OptionalFeatures,
  optionalFeaturesOf,
} from './adapter-report';
import { GpuDeviceLostError, type GpuError, toGpuError, WebGpuUnavailableError } from './errors';
import { loadNodeGpu } from './node-webgpu';

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Ask for these features too, when the adapter has them. */
  extraFeatures?: GPUFeatureName[];
  label?: string;
}

export interface GpuDevice {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly report: AdapterReport;
  readonly optional: OptionalFeatures;
  /** Resolves with a named error when the device is lost for any reason but our own `destroy()`. */
  readonly lost: Promise<GpuDeviceLostError | null>;
  /** Subscribes to device errors; returns the unsubscribe function. */
  onError(listener: (error: GpuError) => void): () => void;
  destroy(): void;
}

// 'subgroups' is newer than the installed @webgpu/types knows, hence the cast.
const wantedFeatures = ['shader-f16', 'subgroups', 'timestamp-query'] as GPUFeatureName[];

async function findGpu(): Promise<GPU> {
  const fromBrowser = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (fromBrowser) return fromBrowser;
  const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);
  if (isNode) {
    return loadNodeGpu().catch((error: unknown) => {
      throw new WebGpuUnavailableError(
        `WebGPU for Node (the "webgpu" package) could not be loaded: ${String(error)}. Run "npm install".`,
      );
    });
  }
  throw new WebGpuUnavailableError(
    'This browser has no WebGPU. Use Chrome or Edge 113 or newer on a machine with a GPU ' +
      '(on Linux, start Chrome with --enable-unsafe-webgpu), and open Whetstone over https or localhost.',
  );
}

export async function acquireDevice(options: AcquireOptions = {}): Promise<GpuDevice> {
  const gpu = await findGpu();
  const adapter = await gpu.requestAdapter({
    powerPreference: options.powerPreference ?? 'high-performance',
  });
  if (!adapter) {
    const nodeHint =
      typeof window === 'undefined' && typeof process !== 'undefined'
        ? ' In Node without a GPU driver, install Chromium (apt-get install -y chromium) for its SwiftShader ' +
          'driver and start Node with LD_LIBRARY_PATH=/usr/lib/chromium (or apt-get install -y libvulkan1).'
        : ' Check that hardware acceleration is on (chrome://gpu) and that your GPU driver is up to date.';
    throw new WebGpuUnavailableError(`WebGPU is present but no GPU adapter is available.${nodeHint}`);
  }
  const features = [...wantedFeatures, ...(options.extraFeatures ?? [])].filter((f) =>
    adapter.features.has(f),
  );
  const device = await adapter.requestDevice({
    label: options.label ?? 'whetstone',
    requiredFeatures: features,
    requiredLimits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  return wrapDevice(adapter, device);
}

function wrapDevice(adapter: GPUAdapter, device: GPUDevice): GpuDevice {
  const listeners = new Set<(error: GpuError) => void>();
  const emit = (error: GpuError) => {
    for (const listener of listeners) listener(error);
  };
  let destroyedByUs = false;
  device.addEventListener('uncapturederror', (event) =>
    emit(toGpuError((event as GPUUncapturedErrorEvent).error)),
  );
  const lost = device.lost.then((info) => {
    if (destroyedByUs) return null;
    const error = new GpuDeviceLostError(info.reason, info.message);
    emit(error);
    return error;
  });
  return {
    device,
    adapter,
    report: describeAdapter(adapter, device),
    optional: optionalFeaturesOf(device.features),
    lost,
    onError(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    destroy() {
      destroyedByUs = true;
      device.destroy();
    },
  };
}
