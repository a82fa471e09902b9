/**
 * uPlot's options for the loss chart: a line per run's training loss, hollow points for its validation
 * loss in the same colour, x as steps or training time (not dates), y linear or log (distr 3). DPO's
 * reward charts draw the same way, with their own y label (and a fixed 0–1 range for the accuracy).
 */
import type uPlot from 'uplot';
import type { chartData, XAxis } from './chart-data';
import { formatDuration } from './format-metric';

export function lossChartOptions(
  data: ReturnType<typeof chartData>,
  xAxis: XAxis,
  logScale: boolean,
  width: number,
  height: number,
  /** Another measure than the loss: its axis label, and a fixed range where it has one. */
  y?: { label: string; range?: [number, number] },
): uPlot.Options {
  return {
    width,
    height,
    legend: { show: false },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: false }, y: logScale ? { distr: 3 } : y?.range ? { range: y.range } : {} },
    axes: [
      {
        label: xAxis === 'step' ? 'step' : 'training time',
        stroke: 'currentColor',
        grid: { stroke: 'rgba(128,128,128,0.2)' },
        ...(xAxis === 'time'
          ? { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => formatDuration(t * 1000)) }
          : {}),
      },
      {
        label: y?.label ?? (logScale ? 'loss (log)' : 'loss'),
        // Room for signed values such as a reward margin's "-0.005".
        ...(y ? { size: 64 } : {}),
        stroke: 'currentColor',
        grid: { stroke: 'rgba(128,128,128,0.2)' },
      },
    ],
    series: [
      {},
      ...data.series.map(
        (s): uPlot.Series =>
          s.kind === 'train'
            ? { label: s.label, stroke: s.color, width: 2, spanGaps: true, points: { show: false } }
            : {
                label: s.label,
                stroke: s.color,
                width: 0,
                paths: () => null,
                points: { show: true, size: 8, stroke: s.color, fill: 'transparent', width: 2 },
              },
      ),
    ],
  };
}
