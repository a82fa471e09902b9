/**
 * The device's features: first the three that matter for training (and whether Whetstone uses them yet),
 * then every feature.
 */
import type { AdapterReport, OptionalFeatures } from '../../../train/gpu-info';

// Why each optional feature matters, in the words a person choosing a model needs.
const optionalFeatures: { name: string; key: keyof OptionalFeatures; why: string }[] = [
  {
    name: 'shader-f16',
    key: 'shaderF16',
    why: 'half-precision math; not used yet: math stays f32 (frozen 16-bit weights are stored as halves on every device)',
  },
  { name: 'subgroups', key: 'subgroups', why: 'row sums in the norm kernels without workgroup-memory trees' },
  { name: 'timestamp-query', key: 'timestampQuery', why: 'exact timing of each GPU kernel' },
];

export function FeatureList({ report }: { report: AdapterReport }) {
  return (
    <>
      <h3>Features that matter for training</h3>
      <dl className="facts">
        {optionalFeatures.map(({ name, key, why }) => {
          const present = report.optional[key];
          return (
            <div key={name} className="fact-row">
              <dt>
                <code>{name}</code> <span className="muted">{why}</span>
              </dt>
              <dd data-testid={`feature-${name}`} className={present ? 'yes' : 'no'}>
                {present ? 'yes' : 'no'}
              </dd>
            </div>
          );
        })}
      </dl>
      <h3>All device features ({report.features.length})</h3>
      {report.features.length === 0 ? (
        <p className="muted">None beyond core WebGPU.</p>
      ) : (
        <ul className="feature-list" data-testid="feature-list">
          {report.features.map((feature) => (
            <li key={feature}>
              <code>{feature}</code>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
