/**
 * Shown when there is no usable GPU. The message comes from the named error and already says what
 * to do (which browser, which flag), so it is shown as-is.
 */
import type { GpuProbeError } from '../../../train/gpu-info';

export function WebGpuError({ error }: { error: GpuProbeError }) {
  const heading =
    error.name === 'WebGpuUnavailableError' ? 'WebGPU is not available' : 'The GPU could not be opened';
  return (
    <section className="panel panel-error" role="alert" data-testid="webgpu-error">
      <h2>{heading}</h2>
      <p data-testid="webgpu-error-message">{error.message}</p>
      <p className="muted">
        <code>{error.name}</code>
      </p>
      <h3>Where WebGPU works</h3>
      <ul data-testid="webgpu-browsers">
        <li>
          Chrome and Edge 113 or later on Windows, macOS and ChromeOS; on Linux, Chrome with{' '}
          <code>chrome://flags/#enable-unsafe-webgpu</code> and <code>--enable-features=Vulkan</code>.
        </li>
        <li>Safari 26 or later on macOS and iOS.</li>
        <li>
          Firefox 141 or later on Windows; on other systems set <code>dom.webgpu.enabled</code> in{' '}
          <code>about:config</code>.
        </li>
        <li>
          Check that hardware acceleration is on in the browser's settings, and that the GPU is not
          blocklisted (<code>chrome://gpu</code>).
        </li>
      </ul>
      <p className="muted">
        You can still prepare a dataset and look through past runs and adapters; training and the playground
        need WebGPU.
      </p>
    </section>
  );
}
