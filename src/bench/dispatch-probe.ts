/**
 * Watches the compute dispatches of one training step, whoever encodes them (Whetstone's recorded steps
 * or tfjs-backend-webgpu), so both sides are counted and timed by the same instrument.
 *
 * Contract: `probeStep(device, run, { time })` patches `beginComputePass` on the device's command-encoder
 * prototype for the duration of `run()` only. Each pass is recorded (pipeline, bind groups, grid) and, on
 * `end()`, encoded again for real: as one pass when only counting, or one pass per dispatch with
 * `timestampWrites` (WebGPU spec §20.4, timestamp-query) when timing, so every dispatch gets its own
 * GPU begin and end time. The probed step therefore runs slower than a plain one: it is never a timed
 * step. Kernel names are pipeline labels, up to the first "(" (Whetstone's keys carry constants there;
 * tfjs labels pipelines by program class).
 */

export interface KernelTime {
  name: string;
  calls: number;
  /** Summed GPU time of its dispatches, in milliseconds. */
  ms: number;
}

export interface ProbeResult {
  dispatches: number;
  /** Present only when timed: the sum over dispatches, and per kernel name, slowest first. */
  gpuMs?: number;
  kernels?: KernelTime[];
}

interface RecordedDispatch {
  pipeline: GPUComputePipeline;
  bindGroups: unknown[][];
  grid?: [number, number, number];
  indirect?: [GPUBuffer, number];
}

// Each chunk holds 2 queries (begin, end) per dispatch; 4096 is the spec's largest query set.
const queriesPerSet = 4096;

class TimestampPool {
  readonly sets: GPUQuerySet[] = [];
  used = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The query set and index of the next dispatch's begin query. */
  next(): { querySet: GPUQuerySet; index: number } {
    const index = this.used % queriesPerSet;
    if (index === 0) {
      this.sets.push(
        this.device.createQuerySet({
          label: 'bench probe timestamps',
          type: 'timestamp',
          count: queriesPerSet,
        }),
      );
    }
    this.used += 2;
    return { querySet: this.sets.at(-1) as GPUQuerySet, index };
  }

  /** Begin and end of each dispatch, in nanoseconds, in dispatch order. */
  async read(): Promise<bigint[][]> {
    const bytes = queriesPerSet * 8;
    const resolve = this.device.createBuffer({
      label: 'bench probe resolve',
      size: bytes * this.sets.length,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const staging = this.device.createBuffer({
      label: 'bench probe staging',
      size: bytes * this.sets.length,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder({ label: 'bench probe resolve' });
    this.sets.forEach((set, i) => {
      const count = Math.min(queriesPerSet, this.used - i * queriesPerSet);
      encoder.resolveQuerySet(set, 0, count, resolve, i * bytes);
    });
    encoder.copyBufferToBuffer(resolve, 0, staging, 0, bytes * this.sets.length);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const stamps = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    for (const b of [resolve, staging, ...this.sets]) b.destroy();
    const pairs: bigint[][] = [];
    for (let q = 0; q < this.used; q += 2) {
      const set = Math.floor(q / queriesPerSet);
      const at = set * queriesPerSet + (q % queriesPerSet);
      pairs.push([stamps[at] as bigint, stamps[at + 1] as bigint]);
    }
    return pairs;
  }
}

/** A stand-in for GPUComputePassEncoder that records what is encoded and replays it on `end()`. */
class RecordingPass {
  label = '';
  private pipeline?: GPUComputePipeline;
  private bindGroups: unknown[][] = [];
  private readonly recorded: RecordedDispatch[] = [];

  constructor(
    private readonly encoder: GPUCommandEncoder,
    private readonly begin: GPUCommandEncoder['beginComputePass'],
    private readonly sink: RecordedDispatch[],
    private readonly timestamps: TimestampPool | null,
  ) {}

  setPipeline(pipeline: GPUComputePipeline): void {
    this.pipeline = pipeline;
  }

  setBindGroup(...args: unknown[]): void {
    this.bindGroups[args[0] as number] = args;
  }

  dispatchWorkgroups(x: number, y = 1, z = 1): void {
    this.record({ grid: [x, y, z] });
  }

  dispatchWorkgroupsIndirect(buffer: GPUBuffer, offset: number): void {
    this.record({ indirect: [buffer, offset] });
  }

  pushDebugGroup(): void {}
  popDebugGroup(): void {}
  insertDebugMarker(): void {}

  end(): void {
    const passes = this.timestamps ? this.recorded.map((d) => [d]) : [this.recorded];
    for (const dispatches of passes) {
      const stamp = this.timestamps?.next();
      const pass = this.begin.call(this.encoder, {
        label: 'bench probe',
        ...(stamp
          ? {
              timestampWrites: {
                querySet: stamp.querySet,
                beginningOfPassWriteIndex: stamp.index,
                endOfPassWriteIndex: stamp.index + 1,
              },
            }
          : {}),
      });
      for (const d of dispatches) {
        pass.setPipeline(d.pipeline);
        for (const args of d.bindGroups) {
          if (args) (pass.setBindGroup as (...a: unknown[]) => void)(...args);
        }
        if (d.grid) pass.dispatchWorkgroups(...d.grid);
        else if (d.indirect) pass.dispatchWorkgroupsIndirect(...d.indirect);
      }
      pass.end();
    }
    this.sink.push(...this.recorded);
  }

  private record(work: Pick<RecordedDispatch, 'grid' | 'indirect'>): void {
    if (!this.pipeline) throw new Error('bench probe: a dispatch with no pipeline set.');
    this.recorded.push({ pipeline: this.pipeline, bindGroups: [...this.bindGroups], ...work });
  }
}

export function kernelName(pipelineLabel: string): string {
  const name = pipelineLabel.split('(')[0]?.trim();
  return name || '(unlabelled)';
}

/** Totals per kernel name, slowest first. */
export function kernelTotals(dispatches: readonly { name: string; ms: number }[]): KernelTime[] {
  const totals = new Map<string, KernelTime>();
  for (const { name, ms } of dispatches) {
    const entry = totals.get(name) ?? { name, calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += ms;
    totals.set(name, entry);
  }
  return [...totals.values()].sort((a, b) => b.ms - a.ms);
}

/** Runs `run` (one whole step, waited for) with every compute dispatch counted and, if asked, timed. */
export async function probeStep(
  device: GPUDevice,
  run: () => Promise<void>,
  options: { time: boolean },
): Promise<ProbeResult> {
  const time = options.time && device.features.has('timestamp-query');
  const prototypeSource = device.createCommandEncoder({ label: 'bench probe prototype' });
  const proto = Object.getPrototypeOf(prototypeSource) as GPUCommandEncoder;
  prototypeSource.finish();
  const begin = proto.beginComputePass;
  const recorded: RecordedDispatch[] = [];
  const timestamps = time ? new TimestampPool(device) : null;
  proto.beginComputePass = function (this: GPUCommandEncoder) {
    return new RecordingPass(this, begin, recorded, timestamps) as unknown as GPUComputePassEncoder;
  };
  try {
    await run();
  } finally {
    proto.beginComputePass = begin;
  }
  if (!timestamps) return { dispatches: recorded.length };
  const pairs = await timestamps.read();
  const perDispatch = recorded.map((d, i) => {
    const [start = 0n, end = 0n] = pairs[i] ?? [];
    return { name: kernelName(d.pipeline.label), ms: Math.max(0, Number(end - start) / 1e6) };
  });
  const kernels = kernelTotals(perDispatch);
  return { dispatches: recorded.length, gpuMs: kernels.reduce((n, k) => n + k.ms, 0), kernels };
}
