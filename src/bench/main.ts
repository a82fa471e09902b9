/**
 * `npm run bench` (bench/run.mjs builds this file with vite.bench.config.ts and runs it in Node through
 * Dawn): Whetstone's training step against the same step in tfjs-backend-webgpu, on one GPUDevice, for
 * every model shape × method of cases.ts. Prints a table and writes bench/results/<time>.json, latest.json
 * and latest.md (the table and a chart). Every case checks logits and losses before it is timed
 * (run-case.ts).
 *
 * Flags: --gpu (add SmolLM2-135M's shape), --shapes a,b, --methods a,b, --warmup N, --steps N,
 * --no-kernel-times, --out DIR, --no-save, --json (stdout holds only the JSON; progress goes to stderr).
 * Warm-up is at least 1: its first step is where the losses are first compared.
 * --render FILE [--markdown] prints a saved report again (the table, or latest.md's Markdown) and
 * measures nothing.
 * Exit codes: 0 every case passed its check, 1 a case failed or could not run, 2 a usage error.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { acquireDevice } from '../gpu/device/acquire-device';
import { createRuntime } from '../gpu/runtime';
import { openCheckpoint } from '../train/io/checkpoint';
import { filesFromMemory } from '../train/io/model-files';
import { type MethodName, methodNames, modelShapes } from './cases';
import { type BenchReport, formatReport, markdownReport, type SkippedCase } from './report';
import { type CaseResult, logitTolerance, lossTolerance, runCase, trajectoryTolerance } from './run-case';

class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      gpu: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      shapes: { type: 'string' },
      methods: { type: 'string' },
      warmup: { type: 'string' },
      steps: { type: 'string' },
      out: { type: 'string', default: 'bench/results' },
      'no-kernel-times': { type: 'boolean', default: false },
      'no-save': { type: 'boolean', default: false },
      render: { type: 'string' },
      markdown: { type: 'boolean', default: false },
    },
  });
  const list = <T extends string>(value: string | undefined, known: readonly T[], what: string) => {
    if (value === undefined) return [...known];
    const chosen = value.split(',').map((s) => s.trim());
    const unknown = chosen.filter((s) => !known.includes(s as T));
    if (unknown.length > 0)
      throw new BenchUsageError(`Unknown ${what}: ${unknown.join(', ')}. Known: ${known.join(', ')}.`);
    return chosen as T[];
  };
  const positive = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new BenchUsageError(`--${name} must be a whole number above 0, got ${value}.`);
    return n;
  };
  return {
    gpu: values.gpu,
    json: values.json,
    shapes: list(
      values.shapes,
      modelShapes.map((s) => s.name),
      'shapes',
    ),
    methods: list<MethodName>(values.methods, methodNames, 'methods'),
    warmup: positive(values.warmup, 'warmup'),
    steps: positive(values.steps, 'steps'),
    out: values.out,
    kernelTimes: !values['no-kernel-times'],
    save: !values['no-save'],
    render: values.render,
    markdown: values.markdown,
  };
}

function deviceKind(report: BenchReport['device']): string {
  const text = `${report.vendor} ${report.architecture} ${report.device} ${report.description}`;
  if (/swiftshader/i.test(text) || report.isFallbackAdapter) {
    return 'software adapter (SwiftShader, on the CPU): ratios only; absolute times say nothing about real GPUs';
  }
  return text.trim() || 'unnamed adapter';
}

async function main(argv: string[]): Promise<number> {
  const options = parse(argv);
  if (options.render) {
    // A saved report, printed again: nothing is measured.
    const report = JSON.parse(await readFile(options.render, 'utf8')) as BenchReport;
    process.stdout.write(`${options.markdown ? markdownReport(report) : formatReport(report)}\n`);
    return 0;
  }
  const log = (line: string) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  const startedAt = new Date();
  const gpu = await acquireDevice({ label: 'bench' });
  const runtime = createRuntime(gpu);
  // A validation error would otherwise pass unseen and leave wrong numbers in the report.
  const gpuErrors: string[] = [];
  gpu.onError((error) => {
    gpuErrors.push(`${error.name}: ${error.message}`);
    log(`GPU error: ${error.name}: ${error.message}`);
  });
  const canTime = gpu.optional.timestampQuery;
  const cases: CaseResult[] = [];
  const skipped: SkippedCase[] = [];
  for (const shape of modelShapes.filter((s) => options.shapes.includes(s.name))) {
    if (shape.gpuOnly && !options.gpu) {
      skipped.push({ shape: shape.name, method: 'all', reason: 'GPU-only shape; pass --gpu to run it' });
      continue;
    }
    const sized = {
      ...shape,
      warmup: options.warmup ?? shape.warmup,
      steps: options.steps ?? shape.steps,
    };
    log(`${shape.name}: building random weights`);
    const checkpoint = await openCheckpoint(filesFromMemory(shape.files(), shape.name));
    for (const method of options.methods) {
      try {
        cases.push(
          await runCase(runtime, gpu, checkpoint, sized, method, { kernelTimes: options.kernelTimes, log }),
        );
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        log(`  ${shape.name} ${method}: could not run: ${message}`);
        cases.push({
          shape: shape.name,
          method,
          B: sized.B,
          T: sized.T,
          tokensPerStep: sized.B * sized.T,
          warmup: sized.warmup,
          steps: sized.steps,
          trainableParams: 0,
          totalParams: 0,
          status: 'error',
          check: {
            maxLogitDiff: Number.NaN,
            maxAbsLogit: Number.NaN,
            firstLossDiff: Number.NaN,
            maxLossDiff: Number.NaN,
            passed: false,
            failure: message,
          },
        });
      }
    }
  }
  const report: BenchReport = {
    schema: 1,
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
    gpuErrors,
  };
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else log(`\n${formatReport(report)}`);
  if (options.save) {
    const dir = resolve(options.out);
    await mkdir(dir, { recursive: true });
    const text = `${JSON.stringify(report, null, 2)}\n`;
    const file = join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
    await writeFile(file, text);
    await writeFile(join(dir, 'latest.json'), text);
    await writeFile(join(dir, 'latest.md'), markdownReport(report));
    log(`wrote ${file}, latest.json and latest.md`);
  }
  gpu.destroy();
  return gpuErrors.length === 0 && cases.every((c) => c.status === 'ok') ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage =
      error instanceof BenchUsageError || (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(usage ? 2 : 1);
  },
);
