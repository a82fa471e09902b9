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
    </section>
  );
}
