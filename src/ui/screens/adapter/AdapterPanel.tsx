/**
 * The adapter screen: what WebGPU reports about this machine's GPU (App.tsx explains when there is none).
 * It reads the GPU slice only; the probe itself is started once, in `main.tsx`.
 */
import { useAppStore } from '../../state/store';
import { AdapterIdentity } from './AdapterIdentity';
import { FeatureList } from './FeatureList';
import { LimitsTable } from './LimitsTable';

export function AdapterPanel() {
  const gpu = useAppStore((state) => state.gpu);
  if (gpu.status === 'probing') {
    return (
      <section className="panel" data-testid="gpu-probing" aria-busy="true">
        <p className="muted">Looking for a WebGPU adapter…</p>
      </section>
    );
  }
  // The app shows the explanation page above every screen instead.
  if (gpu.status === 'unavailable') return null;
  return (
    <section className="panel" data-testid="adapter-panel" aria-labelledby="adapter-heading">
      <h2 id="adapter-heading">Your GPU</h2>
      <AdapterIdentity report={gpu.report} />
      <FeatureList report={gpu.report} />
      <LimitsTable limits={gpu.report.limits} />
    </section>
  );
}
