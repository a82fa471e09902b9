/**
 * Float64 reference for the residual add, forward and backward.
 * Forward: out = a + b (or out += b). Backward: da = db = dout, the identity, which is why there is
 * no backward kernel.
 */

export function addRef(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + (b[i] as number));
}

export function addBackwardRef(dout: Float64Array): { da: Float64Array; db: Float64Array } {
  return { da: Float64Array.from(dout), db: Float64Array.from(dout) };
}
