/**
 * The adapter screen: what WebGPU reports about this machine's GPU, or why there is none.
 * It reads the GPU slice only; the probe itself is started once, in `main.tsx`.
 */
import { useAppStore } from '../../state/store';
import { AdapterIdentity } from './AdapterIdentity';
import { FeatureList } from './FeatureList';
import { LimitsTable } from './LimitsTable';
import { WebGpuError } from './WebGpuError';

export function AdapterPanel() {
  const gpu = useAppStore((state) => state.gpu);
  if (gpu.status === 'probing') {
    return (
      <section className="panel" data-testid="gpu-probing" aria-busy="true">
        <p className="muted">Looking for a WebGPU adapter…</p>
      </section>
    );
  }
  if (gpu.status === 'unavailable') return <WebGpuError error={gpu.error} />;
  return (
    <section className="panel" data-testid="adapter-panel" aria-labelledby="adapter-heading">
      <h2 id="adapter-heading">Your GPU</h2>
      <AdapterIdentity report={gpu.report} />
      <FeatureList report={gpu.report} />
      <LimitsTable limits={gpu.report.limits} />
    </section>
  );
}
