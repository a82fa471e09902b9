/**
 * Float64 references for the bottleneck-adapter activations, forward and backward side by side:
 * relu (PyTorch's gradient 0 at x = 0), silu x·σ(x), and exact GELU x·Φ(x) with Φ(x) = ½·erfc(−x/√2)
 * (nn.GELU(approximate="none"), HF "gelu"), and tanh (Math.tanh). JavaScript has no erf, so erfc is computed here: the
 * all-positive series erf(z) = (2/√π)·e^(−z²)·Σ 2ⁿz^(2n+1)/(1·3···(2n+1)) below z = 2.5, and above it the
 * continued fraction erfc(z) = e^(−z²)/√π · 1/(z + ½/(z + 1/(z + (3/2)/(z + ...)))) (Abramowitz & Stegun
 * 7.1.6 and 7.1.14), each good to ~1e-13 relative or better.
 */
import type { ActivationKind } from './activation';

const inverseSqrtPi = 1 / Math.sqrt(Math.PI);

/** erfc(z) for z ≥ 0, to full relative accuracy in the tail. */
export function erfcRef(z: number): number {
  if (z < 0) return 2 - erfcRef(-z);
  if (z < 2.5) {
    let term = z;
    let sum = z;
    for (let n = 1; term > 1e-18 * sum; n++) {
      term *= (2 * z * z) / (2 * n + 1);
      sum += term;
    }
    return 1 - 2 * inverseSqrtPi * Math.exp(-z * z) * sum;
  }
  let fraction = z;
  for (let k = 300; k >= 1; k--) fraction = z + k / 2 / fraction;
  return (inverseSqrtPi * Math.exp(-z * z)) / fraction;
}

/** Φ(x), the standard normal CDF, without cancellation in either tail. */
function normalCdf(x: number): number {
  const tail = 0.5 * erfcRef(Math.abs(x) / Math.SQRT2);
  return x < 0 ? tail : 1 - tail;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function activationRef(kind: ActivationKind, x: Float64Array): Float64Array {
  switch (kind) {
    case 'relu':
      return x.map((v) => Math.max(v, 0));
    case 'silu':
      return x.map((v) => v * sigmoid(v));
    case 'gelu':
      return x.map((v) => v * normalCdf(v));
    case 'tanh':
      return x.map((v) => Math.tanh(v));
  }
}

export function activationBackwardRef(kind: ActivationKind, x: Float64Array, dy: Float64Array): Float64Array {
  const slope = (v: number): number => {
    switch (kind) {
      case 'relu':
        return v > 0 ? 1 : 0;
      case 'silu': {
        const s = sigmoid(v);
        return s + v * s * (1 - s);
      }
      case 'gelu':
        return normalCdf(v) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
      case 'tanh':
        return 1 - Math.tanh(v) ** 2;
    }
  };
  return x.map((v, i) => (dy[i] as number) * slope(v));
}
