/**
 * DoRA merged into its base weight, as PEFT's merge_and_unload does it (tuners/lora/layer.py
 * `Linear.merge` with use_dora, dora.py `get_weight_norm`): with the LoRA delta s·B·A and the norm
 * taken per output row of the [OUT, IN] weight (PEFT's `torch.linalg.norm(weight, dim=1)`, GPT-2's
 * Conv1D weight transposed first, fan_in_fan_out),
 *   W'[o, :] = m[o] / ‖W[o, :] + s·(B·A)[o, :]‖₂ · (W[o, :] + s·(B·A)[o, :]).
 * The bias stays as it is (DoRA's forward leaves it unscaled). Computed in float64; the result has the
 * weight's own layout ([OUT, IN] for nn.Linear, [IN, OUT] for Conv1D).
 */

export function mergeDoraWeight(
  weight: Float32Array,
  a: Float32Array, // [r, IN]
  b: Float32Array, // [OUT, r]
  magnitude: Float32Array, // [OUT]
  shape: { out: number; in: number; r: number },
  scale: number,
  layout: 'out-in' | 'in-out',
): Float32Array {
  const merged = new Float32Array(weight.length);
  const row = new Float64Array(shape.in);
  for (let o = 0; o < shape.out; o++) {
    let squares = 0;
    for (let i = 0; i < shape.in; i++) {
      let delta = 0;
      for (let j = 0; j < shape.r; j++)
        delta += (b[o * shape.r + j] as number) * (a[j * shape.in + i] as number);
      const w = weight[layout === 'out-in' ? o * shape.in + i : i * shape.out + o] as number;
      const value = w + scale * delta;
      row[i] = value;
      squares += value * value;
    }
    // PEFT divides by the norm as it is; a zero row (norm 0) gives what PEFT gives, a non-finite weight.
    const factor = (magnitude[o] as number) / Math.sqrt(squares);
    for (let i = 0; i < shape.in; i++)
      merged[layout === 'out-in' ? o * shape.in + i : i * shape.out + o] = factor * (row[i] as number);
  }
  return merged;
}
