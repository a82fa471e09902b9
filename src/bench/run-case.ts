/**
 * One benchmark case, Whetstone against tfjs on the same device, in this order:
 *   1. check: both sides' logits on the same batch, same weights, same adapter values;
 *   2. warm-up steps on each side, whose losses must agree step by step (the first is the loss before any
 *      update, so it checks the forward; later ones check gradients and Adam as well);
 *   3. only then the timed steps (median of N), whose losses are compared again;
 *   (warm-up and timed steps alternate between the sides, one step each, so load on the machine falls on
 *   both alike);
 *   4. one probed step per side (dispatches, GPU time per kernel), never timed.
 * A case whose check fails is reported as failed, with its differences and no timings.
 */
import type { GpuDevice } from '../gpu/device/acquire-device';
import type { Runtime } from '../gpu/runtime';
import type { Checkpoint } from '../train/io/checkpoint';
import { benchBatch, type MethodName, type ModelShape } from './cases';
import type { KernelTime, ProbeResult } from './dispatch-probe';
import { TfjsSide } from './tfjs-side';
import { type TimedStep, WhetstoneSide } from './whetstone-side';

/** |Δlogit| ≤ logitTolerance · max(1, max |logit|): f32 on both sides, summed in different orders. */
export const logitTolerance = 1e-3;
/** |Δloss| ≤ lossTolerance · max(1, |loss|) at the first step (same weights on both sides). */
export const lossTolerance = 1e-4;
/**
 * The same after Adam updates, whose normalisation can magnify rounding a little. Tight on purpose: at
 * lr 1e-3 one step lowers the loss by ~0.1-0.2%, so a gradient or optimizer error shows up as a gap of
 * that order within a step or two; agreement measured here is ~1e-6.
 */
export const trajectoryTolerance = 5e-4;

export interface SideFigures {
  /** Median over the timed steps, ms. */
  stepMs: number;
  stepMsAll: number[];
  tokensPerSecond: number;
  /** Median JS time to encode and submit one step, ms. */
  jsMs: number;
  jsMsAll: number[];
  dispatches: number;
  peakBytes: number;
  /** What peakBytes counts. */
  peakBytesSource: string;
  /** Sum of per-dispatch GPU times in the probed step, ms (timestamp-query only). */
  gpuMs?: number;
  slowestKernels?: KernelTime[];
  losses: number[];
}

export interface CaseCheck {
  maxLogitDiff: number;
  maxAbsLogit: number;
  firstLossDiff: number;
  /** Largest loss difference over every later step, warm-up and timed. */
  maxLossDiff: number;
  passed: boolean;
  failure?: string;
}

export interface CaseResult {
  shape: string;
  method: MethodName;
  B: number;
  T: number;
  tokensPerStep: number;
  warmup: number;
  steps: number;
  trainableParams: number;
  totalParams: number;
  /** failed-check: the two sides disagree, so nothing was timed; error: the case could not run. */
  status: 'ok' | 'failed-check' | 'error';
  check: CaseCheck;
  whetstone?: SideFigures;
  tfjs?: SideFigures;
  /** tfjs step time / Whetstone step time (> 1: Whetstone is faster). */
  speedup?: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function largestDifference(a: Float32Array, b: Float32Array): { maxDiff: number; maxAbs: number } {
  if (a.length !== b.length) throw new Error(`Compared ${a.length} values with ${b.length}.`);
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    // NaN anywhere fails the check: the difference is made infinite.
    const diff = Number.isNaN(x) || Number.isNaN(y) ? Number.POSITIVE_INFINITY : Math.abs(x - y);
    maxDiff = Math.max(maxDiff, diff);
    maxAbs = Math.max(maxAbs, Math.abs(y));
  }
  return { maxDiff, maxAbs };
}

const lossGap = (a: TimedStep, b: TimedStep) => Math.abs(a.loss - b.loss) / Math.max(1, Math.abs(b.loss));

function figures(timed: TimedStep[], all: TimedStep[], tokens: number, probe: ProbeResult) {
  const stepMs = median(timed.map((s) => s.stepMs));
  return {
    stepMs,
    stepMsAll: timed.map((s) => s.stepMs),
    tokensPerSecond: tokens / (stepMs / 1000),
    jsMs: median(timed.map((s) => s.jsMs)),
    jsMsAll: timed.map((s) => s.jsMs),
    dispatches: probe.dispatches,
    losses: all.map((s) => s.loss),
    ...(probe.gpuMs === undefined ? {} : { gpuMs: probe.gpuMs, slowestKernels: probe.kernels?.slice(0, 5) }),
  };
}

export async function runCase(
  runtime: Runtime,
  gpu: GpuDevice,
  checkpoint: Checkpoint,
  shape: ModelShape,
  method: MethodName,
  options: { kernelTimes: boolean; log: (line: string) => void },
): Promise<CaseResult> {
  const whetstone = await WhetstoneSide.create(runtime, checkpoint, method, shape);
  try {
    const tfjs = await TfjsSide.create(checkpoint, method, whetstone.start, gpu);
    try {
      return await checkThenTime(
        whetstone,
        tfjs,
        benchBatch(shape.B, shape.T, checkpoint.config.V),
        {
          shape: shape.name,
          method,
          B: shape.B,
          T: shape.T,
          tokensPerStep: shape.B * shape.T,
          warmup: shape.warmup,
          steps: shape.steps,
          trainableParams: whetstone.trainableParams,
          totalParams: whetstone.totalParams,
        },
        options,
      );
    } finally {
      tfjs.release();
    }
  } finally {
    whetstone.release();
  }
}

type CaseHeader = Omit<CaseResult, 'status' | 'check' | 'whetstone' | 'tfjs' | 'speedup'>;

async function checkThenTime(
  whetstone: WhetstoneSide,
  tfjs: TfjsSide,
  batch: ReturnType<typeof benchBatch>,
  base: CaseHeader,
  options: { kernelTimes: boolean; log: (line: string) => void },
): Promise<CaseResult> {
  const { warmup, steps, shape, method } = base;
  const logits = largestDifference(await whetstone.logits(batch), await tfjs.logits(batch));
  const check: CaseCheck = {
    maxLogitDiff: logits.maxDiff,
    maxAbsLogit: logits.maxAbs,
    firstLossDiff: Number.NaN,
    maxLossDiff: 0,
    passed: true,
  };
  const fail = (failure: string): CaseResult => ({
    ...base,
    status: 'failed-check',
    check: { ...check, passed: false, failure },
  });
  if (!(logits.maxDiff <= logitTolerance * Math.max(1, logits.maxAbs))) {
    return fail(`logits differ by ${logits.maxDiff} (largest |logit| ${logits.maxAbs})`);
  }

  options.log(`  ${shape} ${method}: logits agree (max |Δ| ${logits.maxDiff.toExponential(2)}); warm-up`);
  const ws: TimedStep[] = [];
  const tf: TimedStep[] = [];
  // The sides alternate step by step, so a change in the machine's load falls on both alike.
  const alternate = async (n: number) => {
    for (let i = 0; i < n; i++) {
      ws.push(await whetstone.timedStep(batch));
      tf.push(await tfjs.timedStep(batch));
    }
  };
  await alternate(warmup);
  const compare = (from: number) => {
    for (let i = from; i < ws.length; i++) {
      const gap = lossGap(ws[i] as TimedStep, tf[i] as TimedStep);
      if (i === 0) check.firstLossDiff = gap;
      else check.maxLossDiff = Math.max(check.maxLossDiff, gap);
      const tolerance = i === 0 ? lossTolerance : trajectoryTolerance;
      if (!(gap <= tolerance)) {
        return `step ${i + 1} losses differ: Whetstone ${ws[i]?.loss}, tfjs ${tf[i]?.loss}`;
      }
    }
    return null;
  };
  const warmupFailure = compare(0);
  if (warmupFailure) return fail(warmupFailure);

  options.log(`  ${shape} ${method}: losses agree; timing ${steps} steps each`);
  await alternate(steps);
  const timedFailure = compare(warmup);
  if (timedFailure) return fail(timedFailure);

  const wsProbe = await whetstone.probe(batch, options.kernelTimes);
  if (wsProbe.dispatches !== whetstone.recordedDispatches) {
    throw new Error(
      `The probe saw ${wsProbe.dispatches} Whetstone dispatches; the recorded steps hold ${whetstone.recordedDispatches}.`,
    );
  }
  const tfProbe = await tfjs.probe(batch, options.kernelTimes);
  const tokens = base.tokensPerStep;
  const w = {
    ...figures(ws.slice(warmup), ws, tokens, wsProbe),
    peakBytes: whetstone.peakBytes,
    peakBytesSource: 'arena peakLiveBytes (every buffer Whetstone made, at its largest)',
  };
  const t = {
    ...figures(tf.slice(warmup), tf, tokens, tfProbe),
    peakBytes: tfjs.gpuBytes(),
    peakBytesSource: 'tfjs buffer manager numBytesAllocatedInGPU (in use + pooled; fresh backend per case)',
  };
  return { ...base, status: 'ok', check, whetstone: w, tfjs: t, speedup: t.stepMs / w.stepMs };
}
