/**
 * Float64 reference for GELU, tanh approximation, forward and backward, written as HF writes it
 * (`NewGELUActivation`): y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 */

const k = Math.sqrt(2 / Math.PI);
const c = 0.044715;

export function geluRef(x: Float64Array): Float64Array {
  return x.map((v) => 0.5 * v * (1 + Math.tanh(k * (v + c * v ** 3))));
}

/** dx = dy·(0.5·(1 + tanh u) + 0.5·x·(1 − tanh²u)·√(2/π)·(1 + 3·0.044715·x²)). */
export function geluBackwardRef(x: Float64Array, dy: Float64Array): Float64Array {
  return x.map((v, i) => {
    const t = Math.tanh(k * (v + c * v ** 3));
    const slope = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * c * v * v);
    return (dy[i] as number) * slope;
  });
}
