/**
 * Training methods for encoder classifiers, on the same Adaptation interface as decoders:
 * - full fine-tuning: every parameter trains;
 * - any PEFT method with the classification head trained beside it, as PEFT's SEQ_CLS task does
 *   (modules_to_save = the classifier, saved as base_model.model.<head name>.weight/.bias).
 */
import type { Runtime } from '../../gpu/runtime';
import { createTensor, downloadTensor } from '../../gpu/tensor';
import type { EncoderModel } from '../models/bert';
import type { ParamMap } from '../models/params';
import {
  type Adaptation,
  baseLinearOp,
  type EmbeddingOp,
  type EmbeddingSite,
  type KeyValuePrefixOp,
  type KeyValuePrefixSite,
  type PlanContext,
  type SublayerOp,
  type SublayerSite,
  type TrainableEntry,
} from '../peft/adaptation';
import type { AdapterTensors } from '../peft/format/tensor-files';

export class EncoderFullFineTuning implements Adaptation {
  readonly method = 'full';
  readonly grads: ParamMap = new Map();

  constructor(
    runtime: Runtime,
    private readonly model: EncoderModel,
  ) {
    for (const [name, param] of model.params)
      this.grads.set(name, createTensor(runtime.arena, `grad ${name}`, param.shape));
  }

  baseGrad(name: string) {
    return this.grads.get(name);
  }

  linear(site: Parameters<Adaptation['linear']>[0], ctx: Parameters<Adaptation['linear']>[1]) {
    const weight = this.grads.get(`${site.path}.weight`);
    const bias = this.grads.get(`${site.path}.bias`);
    return baseLinearOp(ctx.runtime, site.base, { ...(weight ? { weight } : {}), ...(bias ? { bias } : {}) });
  }

  trainable(): TrainableEntry[] {
    return [...this.grads].map(([name, grad]) => ({
      name,
      grad,
      param: this.model.params.get(name) as TrainableEntry['param'],
    }));
  }
}

/**
 * `inner` (LoRA, IA3, ...) with the head's parameters trained too. For BERT the head that PEFT saves is
 * `classifier` only; the pooler stays frozen as in PEFT, where only modules_to_save and adapters train.
 */
export class WithTrainedHead implements Adaptation {
  readonly method: string;
  readonly headGrads: ParamMap = new Map();
  /** Prompt and prefix tuning's token counts, as the inner method has them. */
  readonly virtualTokens?: number;
  readonly prefixTokens?: number;

  constructor(
    runtime: Runtime,
    private readonly model: EncoderModel,
    private readonly inner: Adaptation,
    /** The head parameters that train: PEFT's modules_to_save ("classifier" for BERT and DistilBERT). */
    readonly names: string[] = savedHeadParamNames(model),
  ) {
    this.method = inner.method;
    if (inner.virtualTokens) this.virtualTokens = inner.virtualTokens;
    if (inner.prefixTokens) this.prefixTokens = inner.prefixTokens;
    for (const name of names) {
      const param = model.params.get(name);
      if (!param) throw new Error(`The classifier has no parameter ${name} to train.`);
      this.headGrads.set(name, createTensor(runtime.arena, `grad ${name}`, param.shape));
    }
  }

  baseGrad(name: string) {
    return this.headGrads.get(name) ?? this.inner.baseGrad(name);
  }

  linear(site: Parameters<Adaptation['linear']>[0], ctx: Parameters<Adaptation['linear']>[1]) {
    return this.inner.linear(site, ctx);
  }

  /** Bottleneck adapters' hook after each sublayer, passed on (undefined for methods without one). */
  sublayer(site: SublayerSite, ctx: PlanContext): SublayerOp | undefined {
    return this.inner.sublayer?.(site, ctx);
  }

  /** Prompt tuning's op over the input embeddings, passed on. */
  embeddings(site: EmbeddingSite, ctx: PlanContext): EmbeddingOp {
    if (!this.inner.embeddings) throw new Error(`${this.method} has no virtual-token embeddings.`);
    return this.inner.embeddings(site, ctx);
  }

  /** Prefix tuning's key/value prefix, passed on. */
  keyValuePrefix(site: KeyValuePrefixSite, ctx: PlanContext): KeyValuePrefixOp {
    if (!this.inner.keyValuePrefix) throw new Error(`${this.method} has no key/value prefix.`);
    return this.inner.keyValuePrefix(site, ctx);
  }

  /** Passes the step on to a method with dropout masks (LoRA, DoRA), which draws them per step. */
  setStep(step: number): void {
    (this.inner as Partial<{ setStep(step: number): void }>).setStep?.(step);
  }

  trainable(): TrainableEntry[] {
    const head = [...this.headGrads].map(([name, grad]) => ({
      name,
      grad,
      param: this.model.params.get(name) as TrainableEntry['param'],
    }));
    return [...this.inner.trainable(), ...head];
  }
}

/**
 * The head parameters PEFT saves for SEQ_CLS (modules_to_save "classifier"): BERT and DistilBERT's
 * `classifier` (the pooler and pre_classifier stay frozen), RoBERTa's whole `classifier` (dense and out_proj).
 * Head layers the checkpoint lacked (`initialised`: a fresh pooler or pre_classifier) train and are saved
 * too, as a PEFT user lists them in modules_to_save: frozen at a random init and left out of the adapter,
 * the adapter could not be loaded back to the same model.
 */
export function savedHeadParamNames(model: EncoderModel, initialised: readonly string[] = []): string[] {
  return model
    .headParamNames()
    .filter((name) => name.startsWith('classifier.') || initialised.includes(name));
}

/** The modules_to_save entries beyond PEFT's SEQ_CLS defaults ("classifier", "score") for these names. */
export function extraModulesToSave(names: readonly string[]): string[] {
  const modules = names.map((name) => name.replace(/\.(weight|bias)$/, ''));
  return [...new Set(modules.filter((m) => !m.startsWith('classifier')))];
}

/** The trained head as PEFT saves modules_to_save: base_model.model.<name> (e.g. classifier.weight). */
export async function headTensors(
  runtime: Runtime,
  model: EncoderModel,
  names: readonly string[],
): Promise<AdapterTensors> {
  const tensors: AdapterTensors = new Map();
  for (const name of names) {
    const param = model.params.get(name);
    if (!param) throw new Error(`The classifier has no parameter ${name} to save.`);
    tensors.set(`base_model.model.${name}`, {
      shape: [...param.shape],
      data: await downloadTensor(runtime.arena, param),
    });
  }
  return tensors;
}
