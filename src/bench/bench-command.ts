/**
 * The benchmark, behind both `npm run bench` (bench/run.mjs) and `whetstone bench` (src/cli/bench.ts):
 * Whetstone's training step against the same step in tfjs-backend-webgpu on one GPUDevice, for every
 * chosen shape × method of cases.ts; the kernel microbenchmarks (kernels/); and the memory figure
 * (memory-figure.ts). Every case and kernel checks its results before it is timed. Prints a table (or,
 * with --json, only the JSON on stdout) and, with --out, writes <time>.json, latest.json and latest.md.
 * Flags: bench-options.ts. Exit codes: 0 every check passed, 1 a check failed or a case could not run,
 * 2 a usage error (BenchUsageError, thrown).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { acquireDevice, type GpuDevice } from '../gpu/device/acquire-device';
import type { AdapterReport } from '../gpu/device/adapter-report';
import { createRuntime, type Runtime } from '../gpu/runtime';
import { openCheckpoint } from '../train/io/checkpoint';
import { filesFromMemory } from '../train/io/model-files';
import type { DecoderConfig } from '../train/models/config';
import { type BenchOptions, parseBenchArgs } from './bench-options';
import { modelShapes } from './cases';
import { runKernelBench } from './kernels/run-kernels';
import { memoryFigures } from './memory-figure';
import { type BenchReport, formatReport, markdownReport, type SkippedCase } from './report';
import { type CaseResult, logitTolerance, lossTolerance, runCase, trajectoryTolerance } from './run-case';

export function isSoftwareAdapter(report: AdapterReport): boolean {
  const text = `${report.vendor} ${report.architecture} ${report.device} ${report.description}`;
  return /swiftshader/i.test(text) || Boolean(report.isFallbackAdapter);
}

function deviceKind(report: AdapterReport): string {
  if (isSoftwareAdapter(report))
    return 'software adapter (SwiftShader, on the CPU): ratios only; absolute times say nothing about real GPUs';
  return (
    `${report.vendor} ${report.architecture} ${report.device} ${report.description}`.trim() ||
    'unnamed adapter'
  );
}

function failedCase(
  shape: (typeof modelShapes)[number],
  method: CaseResult['method'],
  message: string,
): CaseResult {
  return {
    shape: shape.name,
    method,
    B: shape.B,
    T: shape.T,
    tokensPerStep: shape.B * shape.T,
    warmup: shape.warmup,
    steps: shape.steps,
    trainableParams: 0,
    totalParams: 0,
    status: 'error',
    check: {
      maxLogitDiff: NaN,
      maxAbsLogit: NaN,
      firstLossDiff: NaN,
      maxLossDiff: NaN,
      passed: false,
      failure: message,
    },
  };
}

/** Runs the chosen cases and kernel benchmarks on one device and assembles the report (no output). */
export async function measureBench(
  runtime: Runtime,
  gpu: GpuDevice,
  options: Omit<BenchOptions, 'json' | 'out' | 'render' | 'markdown'> & { kernelLimit?: number },
  log: (line: string) => void,
): Promise<BenchReport> {
  const startedAt = new Date();
  const gpuErrors: string[] = [];
  const stopListening = gpu.onError((error) => {
    // A validation error would otherwise pass unseen and leave wrong numbers in the report.
    gpuErrors.push(`${error.name}: ${error.message}`);
    log(`GPU error: ${error.name}: ${error.message}`);
  });
  try {
    const canTime = gpu.optional.timestampQuery;
    const cases: CaseResult[] = [];
    const skipped: SkippedCase[] = [];
    const configs = new Map<string, DecoderConfig>();
    for (const shape of modelShapes) {
      const methods = options.cases.filter((c) => c.shape === shape.name).map((c) => c.method);
      if (methods.length === 0) continue;
      if (shape.gpuOnly && !options.gpu) {
        skipped.push({ shape: shape.name, method: 'all', reason: 'GPU-only shape; pass --gpu to run it' });
        continue;
      }
      const sized = { ...shape, warmup: options.warmup ?? shape.warmup, steps: options.steps ?? shape.steps };
      log(`${shape.name}: building random weights`);
      const checkpoint = await openCheckpoint(filesFromMemory(shape.files(), shape.name));
      configs.set(shape.name, checkpoint.config);
      for (const method of methods) {
        try {
          cases.push(
            await runCase(runtime, gpu, checkpoint, sized, method, { kernelTimes: options.kernelTimes, log }),
          );
        } catch (error) {
          const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          log(`  ${shape.name} ${method}: could not run: ${message}`);
          cases.push(failedCase(sized, method, message));
        }
      }
    }
    const scaled = isSoftwareAdapter(gpu.report) && !options.gpu;
    let kernels: BenchReport['kernels'] = null;
    if (options.kernels) {
      log(`kernel microbenchmarks (${scaled ? 'scaled down for a software adapter' : 'full sizes'})`);
      kernels = await runKernelBench(runtime, gpu, { scaled, tfjs: true, log, limit: options.kernelLimit });
    }
    return {
      schema: 2,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      deviceKind: deviceKind(gpu.report),
      device: gpu.report,
      runtime: { node: process.versions.node, cpus: cpus().length, loadAverage: loadavg() },
      kernelTimes: {
        measured: canTime && options.kernelTimes,
        note: !options.kernelTimes
          ? 'skipped (--no-kernel-times)'
          : canTime
            ? 'measured with timestamp-query, one compute pass per dispatch, in a separate untimed step'
            : 'skipped: this device has no timestamp-query',
      },
      tolerances: { logits: logitTolerance, firstLoss: lossTolerance, trajectory: trajectoryTolerance },
      cases,
      skipped,
      kernels,
      memory: memoryFigures(cases, configs),
      gpuErrors,
    };
  } finally {
    // The device may outlive this run (tests share one); its listener must not.
    stopListening();
  }
}

/** Every check passed and nothing failed to run (the memory target is reported, not a check). */
export function benchPassed(report: BenchReport): boolean {
  return (
    report.gpuErrors.length === 0 &&
    report.cases.every((c) => c.status === 'ok') &&
    (report.kernels?.passed ?? true)
  );
}

async function save(report: BenchReport, out: string, log: (line: string) => void) {
  const dir = resolve(out);
  await mkdir(dir, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const file = join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, text);
  await writeFile(join(dir, 'latest.json'), text);
  await writeFile(join(dir, 'latest.md'), markdownReport(report));
  log(`wrote ${file}, latest.json and latest.md`);
}

/** The whole command: parse, measure, print, save. Returns the exit code; usage errors are thrown. */
export async function runBench(argv: string[]): Promise<number> {
  const options = parseBenchArgs(argv);
  if (options.render) {
    const report = JSON.parse(await readFile(options.render, 'utf8')) as BenchReport;
    process.stdout.write(`${options.markdown ? markdownReport(report) : formatReport(report)}\n`);
    return 0;
  }
  const log = (line: string) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  const gpu = await acquireDevice({ label: 'bench' });
  try {
    const report = await measureBench(createRuntime(gpu), gpu, options, log);
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else log(`\n${formatReport(report)}`);
    if (options.out) await save(report, options.out, log);
    return benchPassed(report) ? 0 : 1;
  } finally {
    gpu.destroy();
  }
}
