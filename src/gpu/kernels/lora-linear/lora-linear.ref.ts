/**
 * Float64 CPU reference for the fused LoRA linear layer, forward and backward side by side,
 * written from the definition y = x·Wᵀ + b + s·(m ⊙ x)·Aᵀ·Bᵀ with m the inverted-dropout mask.
 */
import { type DropoutKey, dropoutMask } from '../dropout/dropout.ref';

export interface LoraRefShapes {
  M: number;
  IN: number;
  OUT: number;
  r: number;
  scale: number;
  dropout?: { p: number; key: DropoutKey };
}

export interface LoraRefParams {
  x: Float64Array;
  w: Float64Array;
  bias?: Float64Array;
  a: Float64Array;
  b: Float64Array;
}

function maskFor(s: LoraRefShapes): Float64Array {
  return s.dropout
    ? dropoutMask(s.dropout.key, s.M * s.IN, s.dropout.p)
    : new Float64Array(s.M * s.IN).fill(1);
}

export function loraForwardRef(p: LoraRefParams, s: LoraRefShapes) {
  const { M, IN, OUT, r } = s;
  const mask = maskFor(s);
  const u = new Float64Array(M * r);
  for (let m = 0; m < M; m++) {
    for (let j = 0; j < r; j++) {
      let sum = 0;
      for (let i = 0; i < IN; i++)
        sum += (p.x[m * IN + i] as number) * (mask[m * IN + i] as number) * (p.a[j * IN + i] as number);
      u[m * r + j] = sum;
    }
  }
  const y = new Float64Array(M * OUT);
  for (let m = 0; m < M; m++) {
    for (let o = 0; o < OUT; o++) {
      let base = p.bias ? (p.bias[o] as number) : 0;
      for (let i = 0; i < IN; i++) base += (p.x[m * IN + i] as number) * (p.w[o * IN + i] as number);
      let low = 0;
      for (let j = 0; j < r; j++) low += (u[m * r + j] as number) * (p.b[o * r + j] as number);
      y[m * OUT + o] = base + s.scale * low;
    }
  }
  return { y, u };
}

export function loraBackwardRef(p: LoraRefParams, s: LoraRefShapes, dy: Float64Array) {
  const { M, IN, OUT, r } = s;
  const mask = maskFor(s);
  const { u } = loraForwardRef(p, s);
  const du = new Float64Array(M * r);
  const dB = new Float64Array(OUT * r);
  for (let m = 0; m < M; m++) {
    for (let o = 0; o < OUT; o++) {
      const g = dy[m * OUT + o] as number;
      for (let j = 0; j < r; j++) {
        du[m * r + j] = (du[m * r + j] as number) + s.scale * g * (p.b[o * r + j] as number);
        dB[o * r + j] = (dB[o * r + j] as number) + s.scale * g * (u[m * r + j] as number);
      }
    }
  }
  const dA = new Float64Array(r * IN);
  const dx = new Float64Array(M * IN);
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < IN; i++) {
      const k = mask[m * IN + i] as number;
      let fromW = 0;
      for (let o = 0; o < OUT; o++) fromW += (dy[m * OUT + o] as number) * (p.w[o * IN + i] as number);
      let fromLora = 0;
      for (let j = 0; j < r; j++) {
        fromLora += (du[m * r + j] as number) * (p.a[j * IN + i] as number);
        dA[j * IN + i] =
          (dA[j * IN + i] as number) + (du[m * r + j] as number) * (p.x[m * IN + i] as number) * k;
      }
      dx[m * IN + i] = fromW + k * fromLora;
    }
  }
  return { dx, dA, dB, du };
}
