/**
 * IA3 merged into its base layer, as PEFT's merge_and_unload does it (tuners/ia3/layer.py
 * `Linear.merge`): a feed-forward module scales its input, so column i of the [OUT, IN] weight is
 * multiplied by ia3_l[0, i] ([1, IN]) and the bias is left alone; any other module scales its output,
 * so row o of the weight and the bias element o are multiplied by ia3_l[o, 0] ([OUT, 1]). GPT-2's
 * Conv1D stores the weight as [IN, OUT] (fan_in_fan_out), where PEFT transposes ia3_l instead; the
 * product is the same.
 */

export function mergeIa3Weight(
  weight: Float32Array,
  l: Float32Array, // [1, IN] when feed-forward, else [OUT, 1]
  shape: { out: number; in: number },
  feedforward: boolean,
  layout: 'out-in' | 'in-out',
): Float32Array {
  const merged = new Float32Array(weight.length);
  for (let o = 0; o < shape.out; o++) {
    for (let i = 0; i < shape.in; i++) {
      const index = layout === 'out-in' ? o * shape.in + i : i * shape.out + o;
      merged[index] = (weight[index] as number) * (l[feedforward ? i : o] as number);
    }
  }
  return merged;
}

/** The bias of an output-scaled (non feed-forward) module: b'[o] = b[o]·ia3_l[o, 0]. */
export function mergeIa3Bias(bias: Float32Array, l: Float32Array): Float32Array {
  return bias.map((value, o) => value * (l[o] as number));
}
