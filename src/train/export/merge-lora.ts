/**
 * LoRA merged into its base weights, as PEFT's merge_and_unload does: W ← W + s·B·A for nn.Linear
 * ([OUT, IN]), and W ← W + s·(B·A)ᵀ for GPT-2's Conv1D ([IN, OUT], fan_in_fan_out). In float64.
 */

export function mergeLoraWeight(
  weight: Float32Array,
  a: Float32Array,
  b: Float32Array,
  shape: { out: number; in: number; r: number },
  scale: number,
  layout: 'out-in' | 'in-out',
): Float32Array {
  const merged = Float32Array.from(weight);
  for (let o = 0; o < shape.out; o++) {
    for (let i = 0; i < shape.in; i++) {
      let delta = 0;
      for (let j = 0; j < shape.r; j++)
        delta += (b[o * shape.r + j] as number) * (a[j * shape.in + i] as number);
      const index = layout === 'out-in' ? o * shape.in + i : i * shape.out + o;
      merged[index] = (merged[index] as number) + scale * delta;
    }
  }
  return merged;
}
