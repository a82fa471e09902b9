/**
 * Mounts a uPlot chart in the returned element and keeps it current. The plot is rebuilt only when
 * `shape` (a key naming everything its options are built from) changes, and is otherwise only fed new
 * columns, so a live run's chart stays smooth at thousands of points. It follows its host's width; a
 * hidden tab has none, and keeps its last size until it shows again.
 */
import { type RefObject, useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface PlotData {
  columns: unknown[];
}

export function useUplot<Data extends PlotData>(
  data: Data,
  shape: string,
  /** The plot's options for the data at this width, or null for nothing to draw yet. */
  makeOptions: (data: Data, width: number) => uPlot.Options | null,
): RefObject<HTMLDivElement | null> {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef({ data, makeOptions });
  latest.current = { data, makeOptions };

  // biome-ignore lint/correctness/useExhaustiveDependencies: `shape` names everything the plot is built from.
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const { data: now, makeOptions: make } = latest.current;
    const options = make(now, Math.max(200, element.clientWidth || 640));
    if (!options) return;
    const made = new uPlot(options, now.columns as uPlot.AlignedData, element);
    plot.current = made;
    const resize = new ResizeObserver(() => {
      if (element.clientWidth > 0) made.setSize({ width: element.clientWidth, height: options.height });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      made.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data.columns as uPlot.AlignedData);
  }, [data]);

  return host;
}
