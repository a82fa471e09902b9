/**
 * The chart's view switches: x axis (step or wall-clock time) and a log scale for the loss.
 */
import type { XAxis } from './LossChart';

interface ChartControlsProps {
  /** Tells this chart's radio group apart from another chart's on the same page. */
  name: string;
  xAxis: XAxis;
  logScale: boolean;
  onXAxis(axis: XAxis): void;
  onLogScale(log: boolean): void;
}

export function ChartControls({ name, xAxis, logScale, onXAxis, onLogScale }: ChartControlsProps) {
  return (
    <div className="chart-controls">
      <fieldset className="segmented">
        <legend>X axis</legend>
        {(
          [
            ['step', 'Step'],
            ['time', 'Wall-clock time'],
          ] as const
        ).map(([value, label]) => (
          <label key={value}>
            <input
              type="radio"
              name={`${name}-x-axis`}
              value={value}
              checked={xAxis === value}
              onChange={() => onXAxis(value)}
            />
            {label}
          </label>
        ))}
      </fieldset>
      <label className="check">
        <input type="checkbox" checked={logScale} onChange={(e) => onLogScale(e.target.checked)} />
        Log scale
      </label>
    </div>
  );
}
