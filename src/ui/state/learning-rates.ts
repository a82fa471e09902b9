/**
 * The learning rates a run setup starts from: for full fine-tuning and for the PEFT methods, under SFT
 * and under DPO. Full fine-tuning and PEFT differ because full fine-tuning moves every pretrained weight,
 * where a rate of 1e-3 wrecks what the model knows, while PEFT methods train a few new parameters that
 * need a larger step to move at all: comparing SFT and LoRA at one shared rate would handicap one of them.
 * DPO's rates are lower again: it starts from a model that already answers, and its loss pulls apart
 * the chosen and rejected log-probabilities with nothing to stop it but β, so a large step drives both
 * down (the model unlearns its answers) instead of only widening the margin.
 *
 * Sources of the figures (the same starting points people use with the Python tools):
 * - hub decoders, SFT: full 2e-5 is TRL's SFTConfig default; 2e-4 is the rate of PEFT's and TRL's LoRA
 *   examples;
 * - hub decoders, DPO: full 1e-6 is TRL's DPOConfig default; 5e-6 is the rate of TRL's dpo.py LoRA
 *   example and of the alignment handbook's QLoRA DPO recipe (LoRA DPO recipes range up to 5e-5);
 * - hub encoders: full 2e-5 is transformers' run_glue example (BERT's paper searched 2e-5 to 5e-5);
 *   4e-4 is the LoRA paper's rate for RoBERTa-base on MRPC (encoders train classifiers, never DPO);
 * - the built-in models have random weights and nothing to wreck; their rates show learning within a
 *   few dozen steps, DPO's as SFT's (the tiny BERT's pair task wants a larger one, as its learning tests do).
 */
import { isClassifierModel, type StudioModel } from '../models/model-catalogue';

export interface LearningRates {
  full: number;
  peft: number;
}

const builtInPrefix = 'builtin-';

export function recommendedRates(model: StudioModel | undefined): LearningRates {
  const classifier = isClassifierModel(model);
  if (!model || model.id.startsWith(builtInPrefix))
    return classifier ? { full: 1e-2, peft: 1e-2 } : { full: 1e-3, peft: 1e-3 };
  return classifier ? { full: 2e-5, peft: 4e-4 } : { full: 2e-5, peft: 2e-4 };
}

/** The rates a DPO run starts from (the header says where they come from). */
export function recommendedDpoRates(model: StudioModel | undefined): LearningRates {
  if (!model || model.id.startsWith(builtInPrefix) || isClassifierModel(model))
    return recommendedRates(model);
  return { full: 1e-6, peft: 5e-6 };
}

/** The setup's rate fields: SFT's and DPO's, each for full fine-tuning and for the PEFT methods. */
export interface RateFields {
  lr: string;
  fullLr: string;
  dpoLr: string;
  dpoFullLr: string;
}

function rateFieldsOf(model: StudioModel | undefined): Record<keyof RateFields, number> {
  const sft = recommendedRates(model);
  const dpo = recommendedDpoRates(model);
  return { lr: sft.peft, fullLr: sft.full, dpoLr: dpo.peft, dpoFullLr: dpo.full };
}

/** The rate fields a new setup for this model starts with. */
export function defaultRateFields(model: StudioModel | undefined): RateFields {
  const rates = rateFieldsOf(model);
  return {
    lr: String(rates.lr),
    fullLr: String(rates.fullLr),
    dpoLr: String(rates.dpoLr),
    dpoFullLr: String(rates.dpoFullLr),
  };
}

/**
 * The rate fields after choosing another model: a field still holding the previous model's recommended
 * rate takes the new model's; one the person typed is kept.
 */
export function ratesAfterModelChange(
  fields: RateFields,
  from: StudioModel | undefined,
  to: StudioModel | undefined,
): RateFields {
  const before = rateFieldsOf(from);
  const after = rateFieldsOf(to);
  const follow = (field: keyof RateFields) =>
    Number(fields[field]) === before[field] ? String(after[field]) : fields[field];
  return {
    lr: follow('lr'),
    fullLr: follow('fullLr'),
    dpoLr: follow('dpoLr'),
    dpoFullLr: follow('dpoFullLr'),
  };
}
