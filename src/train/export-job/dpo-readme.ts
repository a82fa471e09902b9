/**
 * The README parts of an exported DPO job (readme.ts puts them in place of the SFT ones): what the job
 * trains (DPO, β, the reference, how responses are scored and cut), how TRL's logged metrics relate to what
 * the studio charts for a DPO run, what differs from the browser, and how to score the result. The metric
 * definitions are TRL 1.13's (_compute_loss in dpo_trainer.py) and the browser's (preference-objective.ts):
 * rewards β·(log π − log π_ref) summed over each response's tokens, accuracy the share of pairs whose chosen
 * reward is above the rejected one, margin the mean of chosen − rejected.
 */
import { keepsDropout } from './dpo';
import type { RunConfig } from './run-config';

export interface DpoReadmeInput {
  run: RunConfig;
  beta: number;
  peft: boolean;
  dataset: { shape: string; train: readonly unknown[]; validation: readonly unknown[] };
}

export const dpoTitle = (run: RunConfig, beta: number) =>
  `# ${run.model.id}: ${run.method.method} DPO (β ${beta}), exported from Whetstone`;

/** The opening paragraph, up to the run's length (the QLoRA, LoRA+ and early-stopping sentences follow). */
export function dpoOpening({ run, beta, peft, dataset }: DpoReadmeInput, length: string): string {
  const reference = peft
    ? 'the base model with the adapter disabled'
    : 'the model as loaded, before its first update';
  return `This folder runs the same experiment as the browser run, on GPUs, with Hugging Face TRL (\`DPOTrainer\`),
PEFT and accelerate: the same model, method and PEFT config, optimizer, schedule, batch size (in pairs),
gradient accumulation, sequence length, seed, and the same preference pairs split the same way
(${dataset.train.length} training and ${dataset.validation.length} validation pairs, ${dataset.shape} rows).
It trains for ${length}.

The objective is DPO (Direct Preference Optimization), TRL's sigmoid loss at β = ${beta} (\`DPO_KWARGS\`), as in
the browser run: a response's log-probability is the sum over its tokens after the prompt, and the
reference is ${reference}, scored once before the first step
(\`precompute_ref_log_probs\`). Each side of a pair (the prompt, then one response) is cut to ${run.training.seqLen} tokens
keeping the start, and pairs whose prompt alone fills them are left out, in both.`;
}

/** "Reading the metrics": TRL's logged names against the studio's charts. */
export const dpoMetricsSection = `
## Reading the metrics

TRL logs at every step (\`logging_steps\` 1), and at every evaluation with an \`eval_\` prefix, what the
studio charts for a DPO run, defined the same way:

- \`loss\`: DPO's loss, −log σ(chosen reward − rejected reward), the mean over the pairs; it starts at
  log 2 ≈ 0.693 when the model starts as its reference (LoRA, DoRA, IA3, full fine-tuning).
- \`rewards/chosen\`, \`rewards/rejected\`: β·(log π − log π_ref) of each response, averaged over the pairs.
- \`rewards/accuracies\`: the share of pairs whose chosen reward is above the rejected one: the studio's
  reward accuracy.
- \`rewards/margins\`: the mean of chosen minus rejected reward: the studio's reward margin.
- \`logps/chosen\`, \`logps/rejected\`: the trained model's summed log-probabilities of the responses.

The studio averages each over all the pairs of an optimizer step (or of the validation set); TRL averages
each batch's mean over the step's micro-batches (or the evaluation's batches), gathered across GPUs. The
two agree when every batch holds as many pairs; \`eval_loss\` is the mean over the pairs in both. TRL also
logs \`logits/*\`, \`entropy\`, \`mean_token_accuracy\` and \`num_tokens\`, which the studio does not chart.
`;

/** The DPO job's "what differs" points after batch and seed (list items, newline first). */
export function dpoDifferences(run: RunConfig): string {
  const dropout = keepsDropout(run)
    ? `
- LoRA's dropout stays on, as in the browser (\`disable_dropout\` False), so a model whose config has
  dropout of its own (GPT-2) trains with that too; Whetstone's decoders apply none of their own.`
    : '';
  return `
- The loss of a step whose micro-batches hold different numbers of pairs (the last of an epoch) is TRL's
  mean of each micro-batch's mean; Whetstone's is the mean over all the step's pairs.
- Under FSDP (\`accelerate/fsdp.yaml\`) the reference is scored at every step rather than once before
  training: TRL's precomputation runs before FSDP places the model (trl#6470). The values are the same;
  the time is not, and full fine-tuning holds a second copy of the model.${dropout}`;
}

/** How to score what the job writes against the same validation pairs. */
export function dpoBringBack(run: RunConfig, beta: number, peft: boolean): string {
  if (!peft)
    return `Bring back \`output/final/\`. Whetstone opens it as a model folder (\`whetstone eval --model output/final ...\`).`;
  const quantize = run.model.quantization ? ` --quantize ${run.model.quantization}` : '';
  return `Bring back \`output/final/\`. Whetstone imports it into the adapters library (or on the command line:
\`whetstone eval --objective dpo --dpo-beta ${beta} --model ${run.model.id}${quantize} --adapter output/final --data valid.jsonl\`,
the adapter scored against its base as the reference), where it is evaluated on the same validation pairs
and compared with runs trained in the browser.`;
}
