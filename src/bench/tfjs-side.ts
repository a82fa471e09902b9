/**
 * The tfjs baseline of a benchmark case: the independent reference model
 * (src/train/models/reference/tfjs-causal-lm.ts, HF semantics written in tfjs ops) on
 * @tensorflow/tfjs-backend-webgpu, differentiated by tfjs autograd and updated by tfjs's Adam
 * (`optimizer.minimize`), on the very GPUDevice Whetstone uses.
 *
 * `startTfjsOnDevice(gpu)` registers the "webgpu" backend over that device (tfjs-backend-webgpu asks
 * `navigator.gpu` for a device of its own otherwise; in Node there is no navigator, so it is given Dawn's
 * `GPU` object). A timed step: `minimize()` (tracing, autograd, encoding and tfjs's own submits every 15
 * dispatches; the "JS time"), then `await cost.data()` (the step time).
 */
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { GpuDevice } from '../gpu/device/acquire-device';
import type { Checkpoint } from '../train/io/checkpoint';
import type { DecoderConfig } from '../train/models/config';
import type { TokenBatch } from '../train/models/decoder-step';
import {
  type Ia3Vectors,
  type LoraDeltas,
  logitsOf,
  lossOf,
  type Params,
} from '../train/models/reference/tfjs-causal-lm';
import { adamHyperparameters, type MethodName } from './cases';
import { type ProbeResult, probeStep } from './dispatch-probe';
import type { AdapterStart, TimedStep } from './whetstone-side';

/**
 * Makes tfjs's "webgpu" backend run on Whetstone's device, and selects it. Called once per case: a
 * fresh backend starts with an empty buffer pool (so its byte count is that case's) and the old one,
 * disposed, frees its buffers.
 */
export async function startTfjsOnDevice(gpu: GpuDevice): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  // tfjs-backend-webgpu checks for navigator.gpu before it will construct a backend.
  if (!g.navigator?.gpu) {
    const { loadNodeGpu } = await import('../gpu/device/node-webgpu');
    Object.defineProperty(globalThis, 'navigator', {
      value: { ...(g.navigator ?? {}), gpu: await loadNodeGpu() },
      configurable: true,
      writable: true,
    });
  }
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(gpu.device, gpu.adapter.info));
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its webgpu backend.');
}

export class TfjsSide {
  private constructor(
    private readonly config: DecoderConfig,
    private readonly params: Params,
    private readonly lora: LoraDeltas,
    private readonly ia3: Ia3Vectors | undefined,
    private readonly variables: tf.Variable[],
    private readonly optimizer: tf.AdamOptimizer,
    private readonly device: GPUDevice,
  ) {}

  static async create(checkpoint: Checkpoint, method: MethodName, start: AdapterStart, gpu: GpuDevice) {
    await startTfjsOnDevice(gpu);
    const device = gpu.device;
    const full = method === 'full';
    const params: Params = new Map();
    const variables: tf.Variable[] = [];
    for (const [name, w] of checkpoint.weights) {
      const value = tf.tensor(await checkpoint.read(name), w.shape);
      if (full) {
        const v = tf.variable(value, true, `bench/${name}`);
        value.dispose();
        variables.push(v);
        params.set(name, v);
      } else params.set(name, value);
    }
    const lora: LoraDeltas = new Map();
    for (const [path, s] of start.lora) {
      const a = tf.variable(tf.tensor(s.a, s.aShape), true, `bench/${path}.lora_A`);
      const b = tf.variable(tf.tensor(s.b, s.bShape), true, `bench/${path}.lora_B`);
      variables.push(a, b);
      lora.set(path, { a, b, scale: s.scale });
    }
    let ia3: Ia3Vectors | undefined;
    if (start.ia3.size > 0) {
      ia3 = new Map();
      for (const [path, s] of start.ia3) {
        const l = tf.variable(tf.tensor(s.l, s.shape), true, `bench/${path}.ia3_l`);
        variables.push(l);
        ia3.set(path, { l, feedforward: s.feedforward });
      }
    }
    const { lr, betas, eps } = adamHyperparameters;
    const optimizer = tf.train.adam(lr, betas[0], betas[1], eps);
    return new TfjsSide(checkpoint.config, params, lora, ia3, variables, optimizer, device);
  }

  /** [B·T, V] logits, flat in the same order as Whetstone's. */
  async logits(batch: TokenBatch): Promise<Float32Array> {
    const logits = tf.tidy(() => logitsOf(this.config, this.params, batch, this.lora, this.ia3));
    try {
      return (await logits.data()) as Float32Array;
    } finally {
      logits.dispose();
    }
  }

  async timedStep(batch: TokenBatch): Promise<TimedStep> {
    const started = performance.now();
    const cost = this.encodeStep(batch);
    const encoded = performance.now();
    const loss = (await cost.data())[0] as number;
    cost.dispose();
    return { stepMs: performance.now() - started, jsMs: encoded - started, loss };
  }

  probe(batch: TokenBatch, time: boolean): Promise<ProbeResult> {
    return probeStep(
      this.device,
      async () => {
        const cost = this.encodeStep(batch);
        await cost.data();
        cost.dispose();
      },
      { time },
    );
  }

  /**
   * GPU bytes tfjs's buffer manager holds: buffers in use plus those pooled for reuse. It only grows
   * within a backend, and each case starts a fresh backend, so after the steps this is the case's peak.
   */
  gpuBytes(): number {
    return (tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU ?? Number.NaN;
  }

  release(): void {
    this.optimizer.dispose();
    for (const t of this.params.values()) if (!(t instanceof tf.Variable)) t.dispose();
    for (const v of this.variables) v.dispose();
  }

  private encodeStep(batch: TokenBatch): tf.Scalar {
    const cost = this.optimizer.minimize(
      () => lossOf(this.config, this.params, batch, this.lora, this.ia3),
      true,
      this.variables,
    );
    if (!cost) throw new Error('tfjs minimize returned no cost.');
    return cost;
  }
}
