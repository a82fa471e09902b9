/**
 * A histogram of the examples' token lengths as measured by the dataset worker (template applied, EOS
 * appended, before truncation), drawn as SVG bars; a dashed line marks the run's sequence length, past
 * which training cuts examples. Each bar's title gives its range and count, for screen readers too.
 */
import type { HistogramBin } from '../../workers/dataset-protocol';

const WIDTH = 320;
const HEIGHT = 120;
const PAD = { left: 30, right: 8, top: 8, bottom: 22 };

export function TokenHistogram({ bins, maxLength }: { bins: HistogramBin[]; maxLength?: number }) {
  if (!bins.length) return null;
  const first = bins[0] as HistogramBin;
  const last = bins[bins.length - 1] as HistogramBin;
  const most = Math.max(...bins.map((b) => b.count));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const span = last.to - first.from;
  const x = (tokens: number) => PAD.left + ((tokens - first.from) / span) * plotW;
  const y = (count: number) => PAD.top + plotH - (count / most) * plotH;
  const showLimit = maxLength !== undefined && maxLength >= first.from && maxLength <= last.to;
  return (
    <figure className="token-histogram">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby="token-histogram-caption"
        data-testid="token-histogram"
        data-bins={bins.length}
      >
        <title>Token lengths of the examples</title>
        <line
          className="axis"
          x1={PAD.left}
          y1={PAD.top + plotH}
          x2={WIDTH - PAD.right}
          y2={PAD.top + plotH}
        />
        {bins.map((bin) => (
          <rect
            key={bin.from}
            className="bar"
            data-testid="histogram-bar"
            data-from={bin.from}
            data-count={bin.count}
            x={x(bin.from) + 0.5}
            width={Math.max(1, x(bin.to) - x(bin.from) - 1)}
            y={y(bin.count)}
            height={PAD.top + plotH - y(bin.count)}
          >
            <title>
              {bin.to - bin.from === 1 ? `${bin.from} tokens` : `${bin.from}–${bin.to - 1} tokens`}:{' '}
              {bin.count} example{bin.count === 1 ? '' : 's'}
            </title>
          </rect>
        ))}
        {showLimit && (
          <line
            className="limit"
            data-testid="histogram-limit"
            x1={x(maxLength)}
            x2={x(maxLength)}
            y1={PAD.top}
            y2={PAD.top + plotH}
          />
        )}
        <text x={PAD.left} y={HEIGHT - 6} className="tick">
          {first.from}
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 6} className="tick" textAnchor="end">
          {last.to - 1}
        </text>
        <text x={PAD.left - 4} y={PAD.top + 8} className="tick" textAnchor="end">
          {most}
        </text>
      </svg>
      <figcaption id="token-histogram-caption" className="muted">
        Examples by token length (measured)
        {showLimit ? `; the dashed line is the sequence length, ${maxLength}` : ''}.
      </figcaption>
    </figure>
  );
}
