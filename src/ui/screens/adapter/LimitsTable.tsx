/**
 * The device limits that bound model size and kernel shapes. Byte limits read in binary units, and
 * every value also appears exactly (in a `<data>` element, so tests read the number, not the text).
 */
import { formatBytes, formatExact, isByteLimit } from './format-limit';

export function LimitsTable({ limits }: { limits: Record<string, number> }) {
  return (
    <>
      <h3>Limits</h3>
      <table className="limits" data-testid="limits-table">
        <thead>
          <tr>
            <th scope="col">Limit</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(limits).map(([name, value]) => (
            <tr key={name} data-testid={`limit-${name}`}>
              <th scope="row">
                <code>{name}</code>
              </th>
              <td>
                {isByteLimit(name) ? (
                  <>
                    {formatBytes(value)}{' '}
                    <span className="muted">
                      (<data value={value}>{formatExact(value)}</data> bytes)
                    </span>
                  </>
                ) : (
                  <data value={value}>{formatExact(value)}</data>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
