/**
 * Float64 CPU reference for matmul.wgsl, forward and backward, in plain loops.
 * Matrices are row-major Float64Arrays with a batch of leading dimension `batch` (stride 0 = broadcast).
 */
import { type DropoutKey, dropoutKeep, dropoutScale, dropoutThreshold } from '../dropout/dropout.ref';

export interface MatmulRefSpec {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  /** Batch strides in elements; 0 broadcasts. */
  strideA: number;
  strideB: number;
  alpha?: number;
  bias?: Float64Array;
  accumulateInto?: Float64Array;
  dropout?: { operand: 'a' | 'b'; p: number; key: DropoutKey };
  lowRank?: {
    R: number;
    u: Float64Array;
    v: Float64Array;
    vLayout: 'nr' | 'rn';
    strideU: number;
    strideV: number;
    scale: number;
    dropout?: { p: number; key: DropoutKey };
  };
}

function maskAt(p: number, key: DropoutKey, index: number): number {
  return dropoutKeep(key, index, dropoutThreshold(p)) ? dropoutScale(p) : 0;
}

export function matmulRef(a: Float64Array, b: Float64Array, spec: MatmulRefSpec): Float64Array {
  const { batch, M, N, K } = spec;
  const c = new Float64Array(batch * M * N);
  const drop = spec.dropout;
  const readA = (base: number, m: number, k: number) => {
    const i = base + (spec.transA ? k * M + m : m * K + k);
    const v = a[i] as number;
    return drop?.operand === 'a' ? v * maskAt(drop.p, drop.key, i) : v;
  };
  const readB = (base: number, k: number, n: number) => {
    const i = base + (spec.transB ? n * K + k : k * N + n);
    const v = b[i] as number;
    return drop?.operand === 'b' ? v * maskAt(drop.p, drop.key, i) : v;
  };
  const low = spec.lowRank;
  for (let z = 0; z < batch; z++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += readA(z * spec.strideA, m, k) * readB(z * spec.strideB, k, n);
        const index = z * M * N + m * N + n;
        let value = (spec.alpha ?? 1) * sum + (spec.bias ? (spec.bias[n] as number) : 0);
        if (low) {
          let term = 0;
          for (let r = 0; r < low.R; r++) {
            const u = low.u[z * low.strideU + m * low.R + r] as number;
            const vIndex = z * low.strideV + (low.vLayout === 'nr' ? n * low.R + r : r * N + n);
            term += u * (low.v[vIndex] as number);
          }
          term *= low.scale;
          if (low.dropout) term *= maskAt(low.dropout.p, low.dropout.key, index);
          value += term;
        }
        c[index] = value + (spec.accumulateInto ? (spec.accumulateInto[index] as number) : 0);
      }
    }
  }
  return c;
}

/**
 * Gradients of C = alpha·op(A)·op(B) + bias for an upstream dC (no dropout, no low-rank term):
 * dA and dB in the stored layouts of A and B, summed over the batch where an operand is broadcast.
 */
export function matmulBackwardRef(a: Float64Array, b: Float64Array, dc: Float64Array, spec: MatmulRefSpec) {
  const { batch, M, N, K } = spec;
  const alpha = spec.alpha ?? 1;
  const da = new Float64Array(a.length);
  const db = new Float64Array(b.length);
  const dbias = new Float64Array(N);
  for (let z = 0; z < batch; z++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        const g = dc[z * M * N + m * N + n] as number;
        dbias[n] = (dbias[n] as number) + g;
        for (let k = 0; k < K; k++) {
          const ai = z * spec.strideA + (spec.transA ? k * M + m : m * K + k);
          const bi = z * spec.strideB + (spec.transB ? n * K + k : k * N + n);
          da[ai] = (da[ai] as number) + alpha * g * (b[bi] as number);
          db[bi] = (db[bi] as number) + alpha * g * (a[ai] as number);
        }
      }
    }
  }
  return { da, db, dbias };
}
