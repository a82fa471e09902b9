/** The kernel microbenchmarks as console/Markdown lines: GFLOP/s and % of the measured matmul ceiling. */
import { formatTable } from '../report';
import type { KernelReport } from './run-kernels';

/** Three significant figures below 100 (SwiftShader's 0.0123 GFLOP/s stays readable), whole above. */
const figure = (value: number | undefined) =>
  value === undefined ? '-' : value >= 100 ? value.toFixed(0) : value.toPrecision(3);

export function kernelBenchLines(report: KernelReport): string[] {
  const header = ['kernel', 'shape', 'GFLOP', 'ms', 'GFLOP/s', '% ceiling', 'check'];
  const rows = report.rows.map((r) => [
    r.kind,
    r.name,
    figure(r.flops / 1e9),
    figure(r.ms),
    figure(r.gflops),
    r.percentOfCeiling === undefined ? '-' : `${r.percentOfCeiling.toFixed(0)}%`,
    r.check.passed
      ? `ok (${r.check.sampled} sampled, max |Δ| ${r.check.maxAbsDiff.toExponential(1)})`
      : `FAILED: ${r.check.failure}`,
  ]);
  const ceiling = report.ceiling
    ? `Measured matmul ceiling: ${figure(report.ceiling.gflops)} GFLOP/s from ${report.ceiling.source} (${report.ceiling.note}).`
    : 'No matmul passed its check, so there is no measured ceiling.';
  return [
    `Kernel microbenchmarks (${report.sizes} sizes; ${report.timing}):`,
    formatTable([header, ...rows]),
    ceiling,
  ];
}
