import { describe, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { createRngState } from '../dropout/rng-state';
import {
  type LoraConfig,
  type LoraLayer,
  loraLinearBackward,
  loraLinearForward,
  loraScale,
} from './lora-linear';
import { loraBackwardRef, loraForwardRef } from './lora-linear.ref';

interface Case extends LoraConfig {
  M: number;
  IN: number;
  OUT: number;
  bias?: boolean;
}

const seed = 1234;
const step = 7;
const stream = 3;

function setup(c: Case) {
  const random = seededRandom(c.M * 31 + c.IN * 7 + c.OUT + c.rank);
  const inputs: Record<string, { shape: number[]; data: Float32Array }> = {
    x: { shape: [c.M, c.IN], data: randomArray(random, c.M * c.IN) },
    w: { shape: [c.OUT, c.IN], data: randomArray(random, c.OUT * c.IN, 0.5) },
    a: { shape: [c.rank, c.IN], data: randomArray(random, c.rank * c.IN, 0.5) },
    // B is zero at init in PEFT; random here so the low-rank path is really exercised.
    b: { shape: [c.OUT, c.rank], data: randomArray(random, c.OUT * c.rank, 0.5) },
    dy: { shape: [c.M, c.OUT], data: randomArray(random, c.M * c.OUT) },
  };
  if (c.bias) inputs.bias = { shape: [c.OUT], data: randomArray(random, c.OUT) };
  const shapes = {
    M: c.M,
    IN: c.IN,
    OUT: c.OUT,
    r: c.rank,
    scale: loraScale(c),
    ...(c.dropout ? { dropout: { p: c.dropout, key: { seed, step, stream } } } : {}),
  };
  const layerOf = async (t: Record<string, import('../../tensor').Tensor>): Promise<LoraLayer> => {
    const runtime = await testRuntime();
    const rng = createRngState(runtime, seed);
    rng.setStep(step);
    return { weight: t.w!, bias: t.bias, loraA: t.a!, loraB: t.b!, config: c, rng, stream, label: 'layer' };
  };
  return { inputs, shapes, layerOf };
}

// Sums of up to ~65 products of O(1) values in f32.
const tol = { atol: 2e-4, rtol: 1e-4 };
// dA and dB are reductions over all M rows: looser.
const reducedTol = { atol: 5e-4, rtol: 2e-4 };

const cases: Case[] = [
  { M: 45, IN: 65, OUT: 33, rank: 8, alpha: 16 },
  { M: 45, IN: 65, OUT: 33, rank: 8, alpha: 16, bias: true, dropout: 0.25 },
  { M: 1, IN: 1, OUT: 1, rank: 1, alpha: 1 },
  { M: 37, IN: 24, OUT: 40, rank: 17, alpha: 8, rsLora: true, dropout: 0.1 },
  { M: 70, IN: 16, OUT: 64, rank: 4, alpha: 32, bias: true },
  // 600 tokens: dA and dB split K (split-k.ts), dA's B operand dropped as it loads.
  { M: 600, IN: 20, OUT: 12, rank: 4, alpha: 8, dropout: 0.2 },
];

describe('fused LoRA linear', () => {
  it.each(cases)('forward at %j', async (c) => {
    const { inputs, shapes, layerOf } = setup(c);
    await checkKernel(await testRuntime(), {
      name: `lora forward ${JSON.stringify(c)}`,
      inputs,
      outputs: { y: { shape: [c.M, c.OUT], tol }, u: { shape: [c.M, c.rank], tol } },
      launch: async (rt, t) => loraLinearForward(rt, await layerOf(t), { x: t.x!, y: t.y!, u: t.u! }),
      reference: (x) => loraForwardRef({ x: x.x!, w: x.w!, bias: x.bias, a: x.a!, b: x.b! }, shapes),
    });
  });

  it.each(cases)('backward at %j', async (c) => {
    const { inputs, shapes, layerOf } = setup(c);
    await checkKernel(await testRuntime(), {
      name: `lora backward ${JSON.stringify(c)}`,
      inputs,
      outputs: {
        u: { shape: [c.M, c.rank], tol },
        du: { shape: [c.M, c.rank], tol },
        dx: { shape: [c.M, c.IN], tol },
        dA: { shape: [c.rank, c.IN], tol: reducedTol },
        dB: { shape: [c.OUT, c.rank], tol: reducedTol },
        y: { shape: [c.M, c.OUT], tol },
      },
      launch: async (rt, t) => {
        const layer = await layerOf(t);
        const forward = await loraLinearForward(rt, layer, { x: t.x!, y: t.y!, u: t.u! });
        const backward = await loraLinearBackward(rt, layer, {
          x: t.x!,
          u: t.u!,
          dy: t.dy!,
          du: t.du!,
          dx: t.dx!,
          dA: t.dA!,
          dB: t.dB!,
        });
        return [...forward, ...backward];
      },
      reference: (x) => {
        const params = { x: x.x!, w: x.w!, bias: x.bias, a: x.a!, b: x.b! };
        return { ...loraForwardRef(params, shapes), ...loraBackwardRef(params, shapes, x.dy!) };
      },
    });
  });

  it('accumulates dA and dB across micro-batches', async () => {
    const c: Case = { M: 19, IN: 21, OUT: 23, rank: 5, alpha: 10, dropout: 0.2 };
    const { inputs, shapes, layerOf } = setup(c);
    const startA = randomArray(seededRandom(9), c.rank * c.IN);
    const startB = randomArray(seededRandom(10), c.OUT * c.rank);
    await checkKernel(await testRuntime(), {
      name: 'lora backward accumulate',
      inputs: { ...inputs, u: { shape: [c.M, c.rank], data: new Float32Array(c.M * c.rank) } },
      outputs: {
        du: { shape: [c.M, c.rank], tol },
        dx: { shape: [c.M, c.IN], tol },
        dA: { shape: [c.rank, c.IN], tol: reducedTol, initial: startA },
        dB: { shape: [c.OUT, c.rank], tol: reducedTol, initial: startB },
        y: { shape: [c.M, c.OUT], tol },
      },
      launch: async (rt, t) => {
        const layer = await layerOf(t);
        const io = { x: t.x!, y: t.y!, u: t.u!, dy: t.dy!, du: t.du!, dx: t.dx!, dA: t.dA!, dB: t.dB! };
        return [
          ...(await loraLinearForward(rt, layer, io)),
          ...(await loraLinearBackward(rt, layer, { ...io, accumulate: true })),
        ];
      },
      reference: (x) => {
        const params = { x: x.x!, w: x.w!, a: x.a!, b: x.b! };
        const grads = loraBackwardRef(params, shapes, x.dy!);
        return {
          y: loraForwardRef(params, shapes).y,
          du: grads.du,
          dx: grads.dx,
          dA: grads.dA.map((v, i) => v + (startA[i] as number)),
          dB: grads.dB.map((v, i) => v + (startB[i] as number)),
        };
      },
    });
  });
});

describe('fused LoRA linear on a Conv1D weight ([IN, OUT]), adding into dx', () => {
  it('matches the reference with W transposed', async () => {
    const c: Case = { M: 23, IN: 19, OUT: 29, rank: 3, alpha: 6, bias: true, dropout: 0.2 };
    const { inputs, shapes, layerOf } = setup(c);
    const w = inputs.w!.data;
    const transposed = new Float32Array(w.length);
    for (let o = 0; o < c.OUT; o++)
      for (let i = 0; i < c.IN; i++) transposed[i * c.OUT + o] = w[o * c.IN + i] as number;
    const startDx = randomArray(seededRandom(12), c.M * c.IN);
    await checkKernel(await testRuntime(), {
      name: 'lora conv1d',
      inputs: { ...inputs, wT: { shape: [c.IN, c.OUT], data: transposed } },
      outputs: {
        y: { shape: [c.M, c.OUT], tol },
        u: { shape: [c.M, c.rank], tol },
        du: { shape: [c.M, c.rank], tol },
        dx: { shape: [c.M, c.IN], tol, initial: startDx },
        dA: { shape: [c.rank, c.IN], tol: reducedTol },
        dB: { shape: [c.OUT, c.rank], tol: reducedTol },
      },
      launch: async (rt, t) => {
        const layer = { ...(await layerOf(t)), weight: t.wT!, weightLayout: 'in-out' as const };
        const io = {
          x: t.x!,
          y: t.y!,
          u: t.u!,
          dy: t.dy!,
          du: t.du!,
          dx: t.dx!,
          dA: t.dA!,
          dB: t.dB!,
          accumulateDx: true,
        };
        return [...(await loraLinearForward(rt, layer, io)), ...(await loraLinearBackward(rt, layer, io))];
      },
      reference: (x) => {
        const params = { x: x.x!, w: x.w!, bias: x.bias, a: x.a!, b: x.b! };
        const grads = loraBackwardRef(params, shapes, x.dy!);
        return {
          ...loraForwardRef(params, shapes),
          ...grads,
          dx: grads.dx.map((v, i) => v + (startDx[i] as number)),
        };
      },
    });
  });
});
