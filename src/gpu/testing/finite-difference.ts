/** Central finite differences in float64, for checking a CPU reference's backward pass once. */

export function numericGradient(
  loss: (x: Float64Array) => number,
  x: Float64Array,
  eps = 1e-6,
): Float64Array {
  const grad = new Float64Array(x.length);
  const probe = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    probe[i] = v + eps;
    const up = loss(probe);
    probe[i] = v - eps;
    const down = loss(probe);
    probe[i] = v;
    grad[i] = (up - down) / (2 * eps);
  }
  return grad;
}

/** ⟨g, y⟩: the scalar whose gradient with respect to y is g. */
export function dot(g: Float64Array, y: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += (g[i] as number) * (y[i] as number);
  return sum;
}

export function randomFloat64(random: () => number, count: number): Float64Array {
  return Float64Array.from({ length: count }, () => random() * 2 - 1);
}
