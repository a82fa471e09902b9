/**
 * Float64 reference for SwiGLU, forward and backward: h = silu(gate)·up with silu(g) = g·σ(g),
 * written the textbook way (HF `ACT2FN["silu"](gate_proj(x)) * up_proj(x)`).
 */

import { geluBackwardRef, geluRef } from '../gelu/gelu.ref';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export function swigluRef(gate: Float64Array, up: Float64Array): Float64Array {
  return gate.map((g, i) => g * sigmoid(g) * (up[i] as number));
}

/** dgate = dh·up·σ(g)·(1 + g·(1 − σ(g))), dup = dh·silu(g). */
export function swigluBackwardRef(gate: Float64Array, up: Float64Array, dh: Float64Array) {
  const dgate = new Float64Array(gate.length);
  const dup = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i] as number;
    const s = sigmoid(g);
    dgate[i] = (dh[i] as number) * (up[i] as number) * s * (1 + g * (1 - s));
    dup[i] = (dh[i] as number) * g * s;
  }
  return { dgate, dup };
}

/** GeGLU (Gemma's MLP, HF `ACT2FN["gelu_pytorch_tanh"](gate_proj(x)) * up_proj(x)`): h = gelu_tanh(g)·up. */
export function gegluRef(gate: Float64Array, up: Float64Array): Float64Array {
  return geluRef(gate).map((a, i) => a * (up[i] as number));
}

/** dgate = dh·up·gelu_tanh'(g), dup = dh·gelu_tanh(g). */
export function gegluBackwardRef(gate: Float64Array, up: Float64Array, dh: Float64Array) {
  const dgate = geluBackwardRef(
    gate,
    dh.map((d, i) => d * (up[i] as number)),
  );
  const dup = geluRef(gate).map((a, i) => a * (dh[i] as number));
  return { dgate, dup };
}
