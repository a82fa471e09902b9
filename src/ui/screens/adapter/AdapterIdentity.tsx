/**
 * Who made the adapter and what it is, as the browser reports it. Browsers may leave fields empty
 * for privacy; we say so rather than guess.
 */
import type { AdapterReport } from '../../../train/gpu-info';

export function AdapterIdentity({ report }: { report: AdapterReport }) {
  return (
    <dl className="facts">
      <Fact label="Vendor" testId="adapter-vendor" value={report.vendor} />
      <Fact label="Architecture" testId="adapter-architecture" value={report.architecture} />
      <Fact label="Device" testId="adapter-device" value={report.device} />
      <Fact label="Description" testId="adapter-description" value={report.description} />
      <Fact
        label="Fallback (software) adapter"
        testId="adapter-fallback"
        value={report.isFallbackAdapter ? 'yes — expect slow training' : 'no'}
      />
    </dl>
  );
}

function Fact({ label, testId, value }: { label: string; testId: string; value: string }) {
  return (
    <div className="fact-row">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value || <span className="muted">not reported</span>}</dd>
    </div>
  );
}
