/**
 * Prefix tuning inside one attention layer (Li & Liang 2021), as PEFT runs it on Hugging Face decoders:
 * the P learned key/value pairs are a KV cache the layer finds already filled, so
 *   keys = [prefix keys ; own keys]  [B, P + T, KV, D]   (same for values)
 * and attention runs over them with the causal diagonal shifted by P (query t sees every prefix key and
 * its own keys ≤ t: the attention kernel's end-aligned causal mask with S = P + T) and a key mask with P
 * leading ones. No RoPE touches the prefix: Llama caches keys after rotation, so PEFT's prefix keys act as
 * already rotated; the real tokens take positions P.. (see decoder-step.ts). Checked against PEFT v0.20.0
 * peft_model.py: PeftModelForCausalLM.forward passes get_prompt() as past_key_values and prepends P ones
 * to the attention mask; _adjust_prompt_learning_kwargs offsets given position_ids by P, and without them
 * transformers starts cache_position (hence positions, wpe's too for GPT-2) at the cache length P.
 *
 * The own keys and values are copied in after the prefix rows (viewing [B, T·W] as columns of
 * [B, (P + T)·W], W = KV·D), and their gradients copied back out; the prefix rows' gradients go to the
 * adaptation's prefix op.
 */
import type { Dispatch } from '../../../gpu/dispatch';
import { columnCopy } from '../../../gpu/kernels/column-copy/column-copy';
import type { Runtime } from '../../../gpu/runtime';
import { reshapeTensor, type Tensor } from '../../../gpu/tensor';
import type { KeyValuePrefixOp } from '../../peft/adaptation';

/** Rows of [B, S, KV, D] as [B, S·KV·D]. */
const perSequence = (x: Tensor) => reshapeTensor(x, [x.shape[0] as number, x.size / (x.shape[0] as number)]);

/** The layer's own keys (or values) [B, T, KV, D] into rows [P, P + T) of `all` [B, P + T, KV, D]. */
function copyIn(runtime: Runtime, own: Tensor, all: Tensor, P: number): Promise<Dispatch> {
  const rowWidth = own.size / ((own.shape[0] as number) * (own.shape[1] as number));
  return columnCopy(runtime, {
    src: perSequence(own),
    srcOffset: 0,
    dst: perSequence(all),
    dstOffset: P * rowWidth,
    width: own.size / (own.shape[0] as number),
    label: `${own.label} after the prefix`,
  });
}

function copyOut(runtime: Runtime, all: Tensor, own: Tensor, P: number): Promise<Dispatch> {
  const rowWidth = own.size / ((own.shape[0] as number) * (own.shape[1] as number));
  return columnCopy(runtime, {
    src: perSequence(all),
    srcOffset: P * rowWidth,
    dst: perSequence(own),
    dstOffset: 0,
    width: own.size / (own.shape[0] as number),
    label: `${own.label} from after the prefix`,
  });
}

export interface PrefixedKeyValuesIo {
  prefix: KeyValuePrefixOp;
  P: number;
  layer: number;
  /** The layer's own keys and values [B, T, KV, D] (keys after RoPE). */
  k: Tensor;
  v: Tensor;
  /** [B, P + T, KV, D]: what attention reads. */
  kAll: Tensor;
  vAll: Tensor;
}

export async function prefixedKeyValuesForward(
  runtime: Runtime,
  io: PrefixedKeyValuesIo,
): Promise<Dispatch[]> {
  return [
    ...(await io.prefix.write(io.layer, io.kAll, io.vAll)),
    await copyIn(runtime, io.k, io.kAll, io.P),
    await copyIn(runtime, io.v, io.vAll, io.P),
  ];
}

export interface PrefixedKeyValuesGrads {
  /** [B, P + T, KV, D], from attention's backward. */
  dkAll: Tensor;
  dvAll: Tensor;
  /** [B, T, KV, D]: the own keys' and values' gradients. */
  dk: Tensor;
  dv: Tensor;
}

export async function prefixedKeyValuesBackward(
  runtime: Runtime,
  io: Pick<PrefixedKeyValuesIo, 'prefix' | 'P' | 'layer'>,
  grads: PrefixedKeyValuesGrads,
): Promise<Dispatch[]> {
  return [
    ...(await io.prefix.backward(io.layer, grads.dkAll, grads.dvAll)),
    await copyOut(runtime, grads.dkAll, grads.dk, io.P),
    await copyOut(runtime, grads.dvAll, grads.dv, io.P),
  ];
}
