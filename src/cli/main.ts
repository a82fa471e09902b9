/**
 * The `whetstone` command line: the same engine as the app (src/train, src/gpu), in Node through Dawn.
 * Public interface: keep command names and flags stable. In --json mode stdout holds only the JSON.
 * Exit codes: 0 done, 1 failed (the message says why), 2 a usage error.
 */
import { parseArgs } from 'node:util';
import { runEval } from './eval';
import { runGenerate } from './generate';
import { runInfo } from './info';
import { runMakeTinyModel } from './make-tiny-model';
import { runMerge } from './merge';
import { runTrain } from './train';
import { CliUsageError } from './usage-error';

const usage = `Usage: whetstone <command> [options]

Commands:
  info [--json]
      The WebGPU adapter: vendor, architecture, features, limits.
  generate --model DIR [--adapter DIR] --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P]
           [--seed S] [--json]
      Continue the prompt. --temperature 0 is greedy. --json prints {"text", "token_ids"}.
  eval --model DIR [--adapter DIR] --data FILE.jsonl [--seq-len N] [--batch-size N] [--json]
      Mean next-token loss over the file's {"text": ...} lines: {"loss", "tokens", "perplexity"}.
  train --model DIR --data FILE.jsonl --method full|lora|dora|ia3|prompt|adapter --out DIR [--validation FILE]
        [--init-adapter DIR]
        [--optimizer adamw|sgd] [--lr X] [--lr-schedule constant|linear|cosine] [--warmup-steps N]
        [--steps N | --epochs N] [--batch-size N] [--grad-accum N] [--seq-len N] [--max-grad-norm X]
        [--weight-decay X] [--seed S] [--no-shuffle] [--lora-r R] [--lora-alpha A] [--lora-dropout P]
        [--target-modules a,b|all-linear] [--use-rslora] [--num-virtual-tokens N] [--reduction-factor N]
        [--eval-every N] [--json]
      Fine-tune; write a PEFT adapter folder (lora, dora, ia3, prompt), Whetstone's bottleneck adapter
      folder (adapter) or a Hugging Face model folder (full) to --out. Prefix tuning is not available yet.
  merge --model DIR --adapter DIR --out DIR
      Merge a LoRA adapter into the base weights and write a Hugging Face model folder.
  make-tiny-model --family llama|qwen2|gpt2 --out DIR [--seed S]
      Write a tiny random-init model in Hugging Face layout, to try the commands above.
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
  'target-modules',
  'num-virtual-tokens',
  'reduction-factor',
  'eval-every',
] as const;

const booleanFlags = ['json', 'no-shuffle', 'use-rslora'] as const;

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
    case 'eval':
      return runEval(flagsOf(rest));
    case 'train':
      return runTrain(flagsOf(rest));
    case 'merge':
      return runMerge(flagsOf(rest));
    case 'make-tiny-model':
      return runMakeTinyModel(flagsOf(rest));
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
