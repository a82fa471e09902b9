/**
 * The `whetstone` command line: the same engine as the app (src/train, src/gpu), in Node through Dawn.
 * Public interface: keep command names and flags stable. In --json mode stdout holds only the JSON.
 * Exit codes: 0 done, 1 failed (the message says why), 2 a usage error.
 */
import { parseArgs } from 'node:util';
import { runBenchCommand } from './bench';
import { runData } from './data';
import { runEval } from './eval';
import { runEvalClassifier } from './eval-classifier';
import { runExportJob } from './export-job';
import { runGenerate } from './generate';
import { runInfo } from './info';
import { runMakeTinyModel } from './make-tiny-model';
import { runMerge } from './merge';
import { runPlan } from './plan';
import { quantizationFromFlags } from './quantize-flag';
import { resumeArgs, runTrain } from './train';
import { runTrainClassifier } from './train-classifier';
import { CliUsageError } from './usage-error';

const usage = `Usage: whetstone <command> [options]

Commands:
  info [--json]
      The WebGPU adapter: vendor, architecture, features, limits.
  generate --model DIR [--adapter DIR] --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P]
           [--seed S] [--quantize nf4] [--json]
      Continue the prompt. --temperature 0 is greedy. --json prints {"text", "token_ids"}.
  data --data FILE [--model DIR|REPO] [--seq-len N] [DATA FLAGS] [--json]
      What was read: format, schema, columns, rows, bad rows (with lines), examples, label counts, and
      with --model token lengths (min/mean/median/p95/max) and how many --seq-len would truncate.
  eval --model DIR [--adapter DIR] --data FILE [--seq-len N] [--batch-size N] [--quantize nf4] [DATA FLAGS] [--json]
      Mean next-token loss over the file's trained tokens: {"loss", "tokens", "perplexity", ...}.
      --objective dpo [--dpo-beta B] with --adapter: DPO's loss and rewards over a preference file, the
      base model as the reference: {"loss", "pairs", "rewards_accuracy", "rewards_margin", ...}.
  train --model DIR --data FILE --method full|lora|dora|ia3|prefix|prompt|adapter --out DIR [--validation FILE]
        [--init-adapter DIR]
        [--optimizer adamw|sgd] [--lr X] [--lr-schedule constant|linear|cosine] [--warmup-steps N]
        [--steps N | --epochs N] [--batch-size N] [--grad-accum N] [--seq-len N] [--max-grad-norm X]
        [--weight-decay X] [--seed S] [--no-shuffle] [--lora-r R] [--lora-alpha A] [--lora-dropout P]
        [--target-modules a,b|all-linear] [--use-rslora] [--loraplus-lr-ratio R] [--num-virtual-tokens N] [--reduction-factor N]
        [--prefix-projection] [--encoder-hidden-size N] [--grad-checkpointing] [--memory-budget SIZE]
        [--eval-every N] [--early-stopping-patience N] [--validation-fraction X] [--packing] [--checkpoint-every N] [--checkpoint-dir DIR]
        [--resume [DIR]] [--quantize nf4] [--objective sft|dpo] [--dpo-beta B] [--dpo-loss sigmoid|hinge|ipo]
        [DATA FLAGS] [--json]
      Fine-tune; write a PEFT adapter folder (lora, dora, ia3, prefix, prompt), Whetstone's bottleneck
      adapter folder (adapter) or a Hugging Face model folder (full) to --out. --grad-checkpointing
      recomputes each layer's activations in the backward pass: less GPU memory, about a third more time.
      --quantize nf4 loads the frozen layer matrices as 4-bit NormalFloat, as QLoRA does (any method but full).
      --loraplus-lr-ratio R trains LoRA's B matrices (and every vector) at R × --lr: LoRA+ (lora, dora).
      --early-stopping-patience N stops after N evaluations (--eval-every) without a lower validation loss
      and saves the best evaluation's weights (HF's EarlyStoppingCallback with load_best_model_at_end).
      --objective dpo trains DPO (TRL's DPOTrainer, --dpo-beta B, default 0.1; --dpo-loss: sigmoid, DPO's own,
      hinge or ipo) on a preference file (prompt, chosen, rejected) against the base model; the default
      rate is SFT's / 40.
      --checkpoint-every N saves the run every N steps to --checkpoint-dir (default <out>-checkpoints);
      --resume [DIR] continues from the latest checkpoint there (same flags), as if never stopped.
  plan --model DIR|CONFIG --method M [--batch-size N] [--seq-len N] [--grad-checkpointing] [--lora-r R] [--quantize nf4]
       [--early-stopping-patience N] [--objective sft|dpo]
       [--target-modules a,b|all-linear] [--optimizer adamw|sgd] [--memory-budget SIZE] [--max-buffer-size SIZE] [--json]
      The run's GPU memory plan (an estimate) from config.json alone, by component, and whether it fits
      --memory-budget (default 4GiB) and the per-buffer limit (WebGPU's default 128 MiB, or --max-buffer-size).
      --objective dpo plans each of the --batch-size pairs as two rows (chosen and rejected).
      An encoder's config (BERT, DistilBERT, RoBERTa) is planned as train --task classification runs it,
      with --num-labels K classes (default 2).
  train --task classification --model DIR --data FILE --method full|lora|dora|ia3|prompt|prefix|bottleneck
        --out DIR [--validation FILE | --validation-fraction X] [--epochs N] [--batch-size N] [--grad-accum N]
        [--seq-len N] [--lr X] [--warmup-steps N] [--weight-decay X] [--seed S] [--lora-r R] [--lora-alpha A]
        [--lora-dropout P] [--target-modules a,b] [--loraplus-lr-ratio R] [--num-virtual-tokens N] [--prefix-projection]
        [--reduction-factor N] [--hidden-dropout P] [--attention-dropout P] [--checkpoint-every N]
        [--checkpoint-dir DIR] [--resume [DIR]] [DATA FLAGS] [--json]
      Fine-tune a BERT, DistilBERT or RoBERTa classifier on a classification or sentence-pair file (MRPC's
      TSV as it is); accuracy, F1 and the confusion matrix on the validation split after every epoch.
      Writes a Hugging Face folder (full), a PEFT SEQ_CLS adapter folder with the classifier as
      modules_to_save (lora, dora, ia3, prompt, prefix), or Whetstone's bottleneck adapter folder.
  eval --task classification --model DIR [--adapter DIR] --data FILE [--seq-len N] [--batch-size N] [--json]
      {"loss", "accuracy", "f1", ...} of an encoder classifier on a labelled file.
  merge --model DIR --adapter DIR --out DIR
      Merge a LoRA, DoRA or IA3 adapter into the base weights and write a Hugging Face model folder
      (prompt, prefix and bottleneck adapters cannot be merged; load them with --adapter).
  bench [--json] [--cases shape:method,...] [--shapes a,b] [--methods a,b] [--gpu] [--no-kernels | --kernels-only]
        [--warmup N] [--steps N] [--no-kernel-times] [--out DIR] [--render FILE [--markdown]]
      Whetstone's training step against tfjs-backend-webgpu on the same device (checked, then timed), kernel
      GFLOP/s against the measured matmul ceiling, and LoRA's memory saving against the planner's. --gpu adds
      SmolLM2-135M's shape and full-size kernels. --out DIR saves the report (npm run bench: bench/results).
  make-tiny-model --family llama|mistral|qwen2|qwen3|smollm3|gemma2|gemma3|gpt2 --out DIR [--seed S]
      Write a tiny random-init model in Hugging Face layout, to try the commands above.

DATA FLAGS (data, eval, train): any of JSONL, JSON, CSV, TSV, Parquet or plain text, schema detected.
  [--schema text|prompt-completion|alpaca|chat|sharegpt|classification|sentence-pair|preference] [--columns field=col,...]
  [--format jsonl|json|csv|tsv|parquet|text] [--text-mode blocks|lines|whole] [--skip-bad-rows]
  [--max-line-mib N] [--no-mask-prompt]
  Chat and instruction rows go through the model's chat template; only completions and assistant turns
  are trained unless --no-mask-prompt.
  export-job --run-config FILE --out DIR [--model DIR] [--json]
      Write a run (a run config JSON) as a TRL + PEFT job for accelerate: train.py, dataset/ (the same split),
      accelerate configs (one GPU, DeepSpeed ZeRO-2/3, FSDP), pinned requirements.txt and a README.
`;

const stringFlags = [
  'model',
  'adapter',
  'prompt',
  'data',
  'max-new-tokens',
  'temperature',
  'top-k',
  'top-p',
  'seed',
  'seq-len',
  'batch-size',
  'family',
  'out',
  'method',
  'validation',
  'init-adapter',
  'optimizer',
  'lr',
  'lr-schedule',
  'warmup-steps',
  'steps',
  'epochs',
  'grad-accum',
  'max-grad-norm',
  'weight-decay',
  'lora-r',
  'lora-alpha',
  'lora-dropout',
  'hidden-dropout',
  'attention-dropout',
  'target-modules',
  'num-virtual-tokens',
  'reduction-factor',
  'eval-every',
  'schema',
  'columns',
  'format',
  'text-mode',
  'max-line-mib',
  'validation-fraction',
  'encoder-hidden-size',
  'run-config',
  'task',
  'memory-budget',
  'max-buffer-size',
  'num-labels',
  'checkpoint-every',
  'checkpoint-dir',
  'quantize',
  'loraplus-lr-ratio',
  'early-stopping-patience',
  'objective',
  'dpo-beta',
  'dpo-loss',
] as const;

const booleanFlags = [
  'json',
  'no-shuffle',
  'use-rslora',
  'prefix-projection',
  'grad-checkpointing',
  'skip-bad-rows',
  'packing',
  'no-mask-prompt',
  'resume',
] as const;

type Flags = Partial<Record<(typeof stringFlags)[number], string>> &
  Partial<Record<(typeof booleanFlags)[number], boolean>>;

function flagsOf(args: string[]): Flags {
  const options: Record<string, { type: 'string' } | { type: 'boolean' }> = {};
  for (const name of stringFlags) options[name] = { type: 'string' };
  for (const name of booleanFlags) options[name] = { type: 'boolean' };
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Flags;
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'info':
      return runInfo({ json: flagsOf(rest).json === true });
    case 'generate':
      return runGenerate(flagsOf(rest));
    case 'data':
      return runData(flagsOf(rest));
    case 'eval': {
      const flags = flagsOf(rest);
      quantizationFromFlags(flags);
      return flags.task === 'classification' ? runEvalClassifier(flags) : runEval(flags);
    }
    case 'train': {
      const flags = flagsOf(resumeArgs(rest));
      quantizationFromFlags(flags);
      return flags.task === 'classification' ? runTrainClassifier(flags) : runTrain(flags);
    }
    case 'plan':
      return runPlan(flagsOf(rest));
    case 'bench':
      return runBenchCommand(rest);
    case 'merge':
      return runMerge(flagsOf(rest));
    case 'make-tiny-model':
      return runMakeTinyModel(flagsOf(rest));
    case 'export-job':
      return runExportJob(flagsOf(rest));
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`whetstone: unknown command "${command}".\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    process.stderr.write(`whetstone: ${e.name}: ${e.message}\n`);
    process.exit(e instanceof CliUsageError ? 2 : 1);
  },
);
