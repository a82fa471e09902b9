import { describe, expect, it } from 'vitest';
import { createTensor, releaseTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { type GateActivation, swiglu, swigluBackward } from './swiglu';
import { gegluBackwardRef, gegluRef, swigluBackwardRef, swigluRef } from './swiglu.ref';

// One exp per element and a handful of f32 operations; dgate cancels to 0 near g ≈ −1.28, hence atol.
const tol = { atol: 1e-6, rtol: 1e-5 };

/** Gates far out in both tails, where exp(−g) overflows unless the kernel avoids it. */
const extremeGates = [
  0, -0, 1e-30, -1e-30, 20, -20, 30, -30, 88, -88, 100, -100, 1e4, -1e4, 1e30, -1e30, 3e38,
];

async function checkSwiglu(shape: number[], gateData?: Float32Array, activation: GateActivation = 'silu') {
  const n = shape.reduce((a, b) => a * b, 1);
  const random = seededRandom(n);
  // Gates over [-8, 8]: the sigmoid's curved middle and both of its flat tails.
  const gate = gateData ?? randomArray(random, n, 8);
  await checkKernel(await testRuntime(), {
    name: `${activation} gate [${shape.join(', ')}]`,
    inputs: {
      gate: { shape, data: gate },
      up: { shape, data: randomArray(random, n) },
      dh: { shape, data: randomArray(random, n) },
    },
    outputs: { h: { shape, tol }, dgate: { shape, tol }, dup: { shape, tol } },
    launch: async (rt, t) => [
      await swiglu(rt, { gate: t.gate!, up: t.up!, out: t.h!, activation }),
      await swigluBackward(rt, {
        gate: t.gate!,
        up: t.up!,
        dh: t.dh!,
        dgate: t.dgate!,
        dup: t.dup!,
        activation,
      }),
    ],
    reference: (x) =>
      activation === 'silu'
        ? { h: swigluRef(x.gate!, x.up!), ...swigluBackwardRef(x.gate!, x.up!, x.dh!) }
        : { h: gegluRef(x.gate!, x.up!), ...gegluBackwardRef(x.gate!, x.up!, x.dh!) },
  });
}

describe('swiglu', () => {
  it.each([[[45, 65]], [[1, 1]], [[7, 143]], [[32, 128]], [[3, 1001]]])(
    'forward and backward at %j',
    async (shape) => {
      await checkSwiglu(shape);
    },
  );

  it('stays finite and exact in the tails', async () => {
    await checkSwiglu([extremeGates.length], Float32Array.from(extremeGates));
  });

  // GeGLU (Gemma): GELU's tanh approximation in the gate; a wrong slope fails dgate, a wrong value h and dup.
  it.each([[[45, 65]], [[3, 1001]]])('GeGLU forward and backward at %j', async (shape) => {
    await checkSwiglu(shape, undefined, 'gelu_tanh');
  });

  it('GeGLU stays finite and exact in the tails', async () => {
    await checkSwiglu([extremeGates.length], Float32Array.from(extremeGates), 'gelu_tanh');
  });

  it('refuses mismatched sizes and outputs that alias inputs', async () => {
    const runtime = await testRuntime();
    const gate = createTensor(runtime.arena, 'gate', [3, 8]);
    const up = createTensor(runtime.arena, 'up', [3, 9]);
    const h = createTensor(runtime.arena, 'h', [3, 8]);
    try {
      await expect(swiglu(runtime, { gate, up, out: h })).rejects.toThrow(
        /same number of elements \(gate\[3, 8\], up\[3, 9\], h\[3, 8\]\)/,
      );
      await expect(swiglu(runtime, { gate, up: h, out: h })).rejects.toThrow(
        /output h shares its buffer with h/,
      );
    } finally {
      for (const t of [gate, up, h]) releaseTensor(runtime.arena, t);
    }
  });
});
