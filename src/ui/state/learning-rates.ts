/**
 * The learning rates a run setup starts from, one for full fine-tuning and one for the PEFT methods.
 * They differ because full fine-tuning moves every pretrained weight, where a rate of 1e-3 wrecks what
 * the model knows, while PEFT methods train a few new parameters that need a larger step to move at all:
 * comparing SFT and LoRA at one shared rate would handicap one of them.
 *
 * Sources of the figures (the same starting points people use with the Python tools):
 * - hub decoders: full 2e-5 is TRL's SFTConfig default; 2e-4 is the rate of PEFT's and TRL's LoRA examples;
 * - hub encoders: full 2e-5 is transformers' run_glue example (BERT's paper searched 2e-5 to 5e-5);
 *   4e-4 is the LoRA paper's rate for RoBERTa-base on MRPC;
 * - the built-in models have random weights and nothing to wreck; their rates show learning within a
 *   few dozen steps (the tiny BERT's pair task wants a larger one, as its learning tests do).
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

/**
 * The rate fields after choosing another model: a field still holding the previous model's recommended
 * rate takes the new model's; one the person typed is kept.
 */
export function ratesAfterModelChange(
  fields: { lr: string; fullLr: string },
  from: StudioModel | undefined,
  to: StudioModel | undefined,
): { lr: string; fullLr: string } {
  const before = recommendedRates(from);
  const after = recommendedRates(to);
  const untouched = (typed: string, recommended: number) => Number(typed) === recommended;
  return {
    lr: untouched(fields.lr, before.peft) ? String(after.peft) : fields.lr,
    fullLr: untouched(fields.fullLr, before.full) ? String(after.full) : fields.fullLr,
  };
}
