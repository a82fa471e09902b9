/**
 * Learning-rate schedules as Hugging Face transformers defines them (src/transformers/optimization.py):
 * a multiplier λ(s) of the base learning rate, for s = 0, 1, 2, ...
 *   constant: get_constant_schedule_with_warmup      s < W: s / max(1, W);  then 1
 *   linear:   get_linear_schedule_with_warmup        s < W: s / max(1, W);  then max(0, (N − s) / max(1, N − W))
 *   cosine:   get_cosine_schedule_with_warmup        s < W: s / max(1, W);  then
 *             max(0, ½·(1 + cos(π · 2·cycles · (s − W) / max(1, N − W)))), cycles 0.5 by default
 * (W warmup steps, N training steps). Indexing follows LambdaLR inside the Trainer: the scheduler is
 * built with λ(0) in force and steps once after every optimizer.step, so the update numbered t (1-based,
 * torch's state['step']) uses lr·λ(t − 1). With warmup the first update therefore has lr 0, as in HF.
 * Past N, linear stays at 0 and the half cosine rises again (HF does not clamp the progress).
 */

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface Schedule {
  kind: ScheduleKind;
  warmupSteps: number;
  /** N, the optimizer steps of the run; unused by 'constant'. */
  totalSteps: number;
  /** Waves of the cosine; HF's default 0.5 decays once from 1 to 0. */
  numCycles?: number;
}

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

function warmup(step: number, warmupSteps: number): number {
  return step / Math.max(1, warmupSteps);
}

export function constantWithWarmup(step: number, warmupSteps: number): number {
  return step < warmupSteps ? warmup(step, warmupSteps) : 1;
}

export function linearWithWarmup(step: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return warmup(step, warmupSteps);
  return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}

export function cosineWithWarmup(
  step: number,
  warmupSteps: number,
  totalSteps: number,
  numCycles = 0.5,
): number {
  if (step < warmupSteps) return warmup(step, warmupSteps);
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
}

function checkSchedule(schedule: Schedule, step: number): void {
  const count = (value: number, what: string) => {
    if (!(Number.isInteger(value) && value >= 0))
      throw new ScheduleError(`${what} must be a whole number ≥ 0, got ${value}.`);
  };
  count(step, 'The schedule step');
  count(schedule.warmupSteps, 'Warmup steps');
  count(schedule.totalSteps, 'Training steps');
}

/** λ(step), step 0-based: the multiplier for the update numbered step + 1. */
export function learningRateMultiplier(
  kind: ScheduleKind,
  step: number,
  steps: Omit<Schedule, 'kind'>,
): number {
  const schedule = { kind, ...steps };
  checkSchedule(schedule, step);
  const { warmupSteps, totalSteps } = schedule;
  switch (kind) {
    case 'constant':
      return constantWithWarmup(step, warmupSteps);
    case 'linear':
      return linearWithWarmup(step, warmupSteps, totalSteps);
    case 'cosine':
      return cosineWithWarmup(step, warmupSteps, totalSteps, schedule.numCycles);
    default:
      throw new ScheduleError(`Unknown schedule "${kind as string}".`);
  }
}

/** The same λ(step), the schedule given as one object. */
export function lrMultiplier(schedule: Schedule, step: number): number {
  return learningRateMultiplier(schedule.kind, step, schedule);
}

/** The learning rate of update t (1-based, as the optimizer's `setStep` takes it): lr·λ(t − 1). */
export function lrForUpdate(baseLr: number, schedule: Schedule, update: number): number {
  return baseLr * lrMultiplier(schedule, update - 1);
}
