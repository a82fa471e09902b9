/**
 * Early stopping (training.earlyStoppingPatience) in an exported job, as the browser run does it
 * (src/train/early-stopping.ts): transformers' EarlyStoppingCallback(early_stopping_patience=N) with
 * load_best_model_at_end=True, metric_for_best_model="eval_loss", greater_is_better=False, threshold 0.
 * A run without it gets none of this, so its files stay as they were.
 *
 * How the Trainer does it (trainer.py, trainer_callback.py and trainer_utils.py, read in transformers 5.18;
 * the job pins 5.23; a CPU run of an exported job on a tiny Llama stopped and saved as described):
 * - every eval_steps it evaluates, and once more at the last step when that is not a multiple of them,
 *   as the browser run does; EarlyStoppingCallback.on_evaluate compares eval_loss with the best before
 *   this evaluation (strictly lower resets the count) and stops the run after N without one;
 * - load_best_model_at_end needs the save strategy to match the eval strategy and save_steps to be a
 *   multiple of eval_steps, so a checkpoint is written at every evaluation (and at the last step); the
 *   best of them is protected from save_total_limit's rotation, and at the end only it is kept;
 * - after train() the Trainer loads the best checkpoint back (_load_best_model): a PEFT model through
 *   load_adapter into its active adapter, a full model through load_state_dict, under DeepSpeed (ZeRO-2
 *   and ZeRO-3) by loading the engine's checkpoint, under FSDP2 the full state dict saved beside it. So
 *   trainer.save_model afterwards writes the best weights, as the browser run saves them.
 * Refused: prefix tuning with prefixProjection. PEFT saves its projected prefix, not the embedding and
 * MLP that train, so load_adapter cannot put a checkpoint back: the Trainer raises at the end of the run
 * (it says so for prompt learning, PEFT issue 2256). Prompt tuning and plain prefix tuning load back.
 */

import type { TrainConfig } from '../train-config';
import { ExportJobError, RunConfigError } from './errors';
import type { PythonJson } from './python-literal';
import type { RunConfig } from './run-config';

/** The run's patience, or undefined when it trains every step. */
export const earlyStoppingPatience = (run: RunConfig): number | undefined =>
  run.training.earlyStoppingPatience;

/**
 * The SFTConfig (TrainingArguments) entries of an early-stopping run, after its eval_steps; none
 * without early stopping. One checkpoint is kept beside the newest: the best (save_total_limit 1; the
 * Trainer never rotates the best away, and deletes the rest once the best is loaded).
 */
export function earlyStoppingKwargs(training: TrainConfig): Record<string, PythonJson> {
  if (training.earlyStoppingPatience === undefined) return {};
  return {
    save_strategy: 'steps',
    save_steps: training.evalEvery,
    save_total_limit: 1,
    load_best_model_at_end: true,
    metric_for_best_model: 'eval_loss',
    greater_is_better: false,
  };
}

/**
 * What an early-stopping run must be to export, before any data is read. parseRunConfig refuses a
 * patience without evaluations too; a run config built in code reaches export without that check.
 */
export function refuseUnexportableEarlyStopping(run: RunConfig): void {
  const patience = earlyStoppingPatience(run);
  if (patience === undefined) return;
  if (!(Number.isInteger(patience) && patience >= 1))
    throw new ExportJobError(
      `Early-stopping patience must be a whole number of at least 1, got ${patience}.`,
    );
  if (!(run.training.evalEvery > 0))
    throw new ExportJobError(
      'Early stopping compares evaluations during the run: set how often to evaluate (training.evalEvery) as well.',
    );
  if (run.method.method === 'prefix' && run.method.prefixProjection)
    throw new ExportJobError(
      "PEFT saves prefix tuning's projected prefix, not the projection that trains, so transformers cannot " +
        'load the best checkpoint back at the end of an early-stopping job. Export this run without early ' +
        'stopping, or train prefix tuning without prefixProjection.',
    );
}

/** A split (or validation file) that leaves no validation example gives early stopping nothing to compare. */
export function refuseEarlyStoppingWithoutValidation(run: RunConfig, validationExamples: number): void {
  if (earlyStoppingPatience(run) !== undefined && validationExamples === 0)
    throw new ExportJobError(
      'Early stopping compares validation losses, and this run has no validation set: hold examples out ' +
        '(data.validationFraction) or give a data.validationFile.',
    );
}

/** A classifier run scores every epoch and keeps its last, in the browser and in its job. */
export function refuseEarlyStoppingInClassifier(run: RunConfig): void {
  if (earlyStoppingPatience(run) !== undefined)
    throw new RunConfigError(
      'training.earlyStoppingPatience',
      'early stopping is for language-model runs; a classifier run scores every epoch, and its last is ' +
        'what it keeps. Leave it out of a classifier run.',
    );
}

/** The settings block's early-stopping lines (after the training keyword arguments); none without it. */
export function earlyStoppingSettings(
  run: RunConfig,
  assign: (name: string, value: PythonJson) => string,
): string[] {
  const patience = earlyStoppingPatience(run);
  if (patience === undefined) return [];
  return [
    '# Early stopping: stop after this many evaluations in a row without a lower eval_loss; end on the best.',
    assign('EARLY_STOPPING_PATIENCE', patience),
  ];
}

/** The names train.py imports from transformers besides the model and tokenizer classes. */
export const earlyStoppingImport = (run: RunConfig) =>
  earlyStoppingPatience(run) === undefined ? '' : ', EarlyStoppingCallback';

/** The trainer's callbacks argument (a line of its call, newline first); '' without early stopping. */
export const earlyStoppingCallbackPy = (run: RunConfig) =>
  earlyStoppingPatience(run) === undefined
    ? ''
    : '\n        callbacks=[EarlyStoppingCallback(early_stopping_patience=EARLY_STOPPING_PATIENCE)],';

/** After train(): where the run stopped and which step's weights it keeps (newline first); '' without. */
export const earlyStoppingReportPy = (run: RunConfig) =>
  earlyStoppingPatience(run) === undefined
    ? ''
    : `
    # load_best_model_at_end has put the best checkpoint's weights back: they are what is saved below.
    if trainer.accelerator.is_main_process:
        state = trainer.state
        stopped = {"last_step": state.global_step, "best_step": state.best_global_step}
        print(json.dumps({**stopped, "best_eval_loss": state.best_metric}))`;

/** The README's sentence on early stopping (after the opening paragraph); '' without it. */
export function earlyStoppingReadmeSentence(run: RunConfig): string {
  const patience = earlyStoppingPatience(run);
  if (patience === undefined) return '';
  const evaluations = patience === 1 ? 'an evaluation' : `${patience} evaluations in a row`;
  return `\nAs in the browser run, it may stop sooner: it evaluates every ${run.training.evalEvery} steps, stops after ${evaluations}
without a lower \`eval_loss\` (\`EARLY_STOPPING_PATIENCE\`), and ends on the best evaluation's weights, which
are what \`output/final/\` holds (transformers' \`EarlyStoppingCallback\` with \`load_best_model_at_end\`).`;
}

/** The README's cluster caveat (after "Every machine needs this folder and the model."); '' without it. */
export const earlyStoppingClusterNote = (run: RunConfig) =>
  earlyStoppingPatience(run) === undefined
    ? ''
    : `
With early stopping, put \`--output-dir\` on storage every machine shares: under DeepSpeed each machine
reads the best checkpoint back at the end.`;

/**
 * The README's "what differs" point (a list item, newline first); '' without early stopping. The Trainer's
 * eval_loss (evaluation_loop) is the mean over examples of each batch's per-token mean; the browser's is
 * the mean over every validation token.
 */
export const earlyStoppingDifference = (run: RunConfig) =>
  earlyStoppingPatience(run) === undefined
    ? ''
    : `
- transformers' \`eval_loss\` is each evaluation batch's per-token mean, averaged over examples; Whetstone's
  is the mean over every validation token. When batches hold different numbers of trained tokens the two
  differ a little, and early stopping may keep a neighbouring evaluation.`;
