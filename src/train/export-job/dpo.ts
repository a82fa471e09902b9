/**
 * DPO runs (training.preference, Rafailov et al. 2023, "Direct Preference Optimization") in an exported
 * job: TRL's DPOTrainer with DPOConfig, the way the browser trains them (src/train/preference):
 *   beta → beta; lossType → loss_type [sigmoid (−log σ(β·δ), the default), hinge or ipo], the mean over
 *     the pairs of a batch;
 *   the reference is the model before training, PEFT's base with the adapter disabled, or for full
 *     fine-tuning the model as loaded, scored once before the first step → precompute_ref_log_probs True
 *     (TRL then keeps no second model: with PEFT it disables the adapter, without it scores the policy
 *     before training; read in TRL 1.13's dpo_trainer.py);
 *   each response's log-probability is the sum over its tokens after the prompt (TRL's default, ld_alpha
 *     None); each side is cut to max_length = seqLen, keep_start, and pairs whose prompt alone fills it are
 *     left out (TRL's filter), as preference-data.ts does;
 *   the optimizer, schedule, batch (in pairs), accumulation, evaluation and early stopping: sftKwargs's
 *     mapping (sft-config.ts), less SFTConfig's own fields (packing, completion_only_loss);
 *   dropout: TRL's default (disable_dropout True) turns every dropout module off. The browser's decoders
 *     have none, but LoRA's dropout applies while training; a LoRA run with dropout keeps dropout on
 *     (disable_dropout False), every other run takes TRL's default.
 * Under FSDP, TRL 1.13 precomputes the reference in DPOTrainer's __init__ on weights FSDP has not placed
 * yet (trl#6470, CUDA inputs against CPU weights): train.py then scores the same frozen reference at every
 * step (precompute off), with a second copy of the model for full fine-tuning.
 * Refused: prompt tuning (ExportJobError). PEFT prepends its virtual tokens to the input, so the logits
 * are longer than the tokens TRL's DPO loss scores them against: the first step fails on the mismatch (a
 * CPU run with PEFT 0.21 and TRL 1.13). Prefix tuning keeps the logits' length and trains as the browser.
 * Packing and unmasked prompts do not apply to pairs: a RunConfigError names data.packing or
 * data.maskPrompt, as the CLI's --objective dpo refuses --packing and --no-mask-prompt.
 */
import { ExportJobError, RunConfigError } from './errors';
import { float, type PythonJson } from './python-literal';
import type { RunConfig } from './run-config';
import { sftKwargs } from './sft-config';

/** TRL's DPOConfig default β, taken when a run config's `preference` gives none. */
export const defaultDpoBeta = 0.1;

/** The run's DPO setting, or undefined when it trains next-token prediction (SFT). */
export const preferenceOf = (run: RunConfig): RunConfig['training']['preference'] => run.training.preference;

/** What pairs cannot take, by field; parseRunConfig calls it, and so does export for configs built in code. */
export function refuseDpoDataSwitches(run: Pick<RunConfig, 'training' | 'data'>): void {
  if (run.training.preference === undefined) return;
  if (run.data.packing)
    throw new RunConfigError(
      'data.packing',
      'DPO scores each response whole against its prompt; packing would join pairs into shared rows. ' +
        'Leave it out (false) for a DPO run.',
    );
  if (!run.data.maskPrompt)
    throw new RunConfigError(
      'data.maskPrompt',
      "DPO compares the responses' log-probabilities, never the prompt's, so the prompt is always masked. " +
        'Leave it out (true) for a DPO run.',
    );
}

/** What TRL's DPOTrainer cannot train, before any data is read. */
export function refuseUnexportableDpo(run: RunConfig): void {
  if (preferenceOf(run) === undefined) return;
  refuseDpoDataSwitches(run);
  if (run.method.method === 'prompt')
    throw new ExportJobError(
      'Prompt tuning cannot be exported as a DPO job: PEFT prepends its virtual tokens to the input, so the ' +
        "model's logits are longer than the sequence TRL's DPOTrainer scores, and its first step fails on the " +
        'mismatch. Export a prefix-tuning, LoRA, DoRA, IA3 or full fine-tuning DPO run, or keep training ' +
        'prompt tuning with DPO in Whetstone.',
    );
}

/** sftKwargs entries that belong to TRL's SFTConfig alone; DPOConfig has max_length and truncation_mode too. */
const sftOnlyFields = ['packing', 'packing_strategy', 'completion_only_loss'];

/** Whether TRL keeps dropout on: only for LoRA's own dropout, which the browser applies while training. */
export const keepsDropout = (run: RunConfig): boolean =>
  run.method.method === 'lora' && run.method.dropout > 0;

/** The run as DPOConfig keyword arguments: DPO's own first, then sftKwargs's mapping less SFT's fields. */
export function dpoKwargs(run: RunConfig, hasValidation: boolean): Record<string, PythonJson> {
  const preference = preferenceOf(run);
  if (!preference) throw new Error('dpoKwargs needs a DPO run (training.preference).');
  const training = sftKwargs({
    training: run.training,
    data: { maskPrompt: true, packing: false },
    shape: 'prompt-completion',
    hasValidation,
  });
  return {
    beta: float(preference.beta),
    loss_type: [preference.lossType ?? 'sigmoid'],
    precompute_ref_log_probs: true,
    disable_dropout: !keepsDropout(run),
    ...Object.fromEntries(Object.entries(training).filter(([key]) => !sftOnlyFields.includes(key))),
  };
}
