/**
 * README.md of an exported job: what the folder is, how to run it on one GPU, several GPUs and a
 * cluster, what the job does differently from the browser (said plainly), and what to bring back.
 * A DPO run's README (training.preference) swaps in dpo-readme.ts's parts: what DPO trains, how TRL's
 * metrics read against the studio's, its own differences and how to score the result.
 */
import { preferenceOf } from './dpo';
import { dpoBringBack, dpoDifferences, dpoMetricsSection, dpoOpening, dpoTitle } from './dpo-readme';
import {
  earlyStoppingClusterNote,
  earlyStoppingDifference,
  earlyStoppingReadmeSentence,
} from './early-stopping';
import { loraPlusDecayDifference, loraPlusRatio, loraPlusReadmeSentence } from './loraplus';
import type { JobPeftConfig } from './peft-config';
import type { RunConfig } from './run-config';

export interface ReadmeInput {
  run: RunConfig;
  peft: JobPeftConfig | null;
  /** The rows written (a DPO run's: preference-dataset.ts's pairs). */
  dataset: { shape: string; train: readonly unknown[]; validation: readonly unknown[] };
}

export function readmeMd({ run, peft, dataset }: ReadmeInput): string {
  const t = run.training;
  const length = t.steps === undefined ? `${t.epochs} epoch(s)` : `${t.steps} steps`;
  const quantization = run.model.quantization;
  const name = quantization?.toUpperCase();
  const quantized = quantization
    ? `\nThe run loads its base in 4-bit ${name} (QLoRA), as the browser run did: bitsandbytes quantizes the
decoder layers' linear weights as they load (embeddings and lm_head stay as they are), so it needs a CUDA GPU.`
    : '';
  // Under LoRA+ the optimizer is PEFT's, which decays as transformers does here.
  const decayDifference =
    loraPlusRatio(run) === undefined
      ? `
- With weight decay above 0, transformers also decays DoRA's magnitude vectors; Whetstone decays only
  tensors of two or more dimensions.`
      : loraPlusDecayDifference;
  const result = peft
    ? `\`output/final/\`: a PEFT adapter folder (\`adapter_config.json\`, \`adapter_model.safetensors\`)`
    : '`output/final/`: a Hugging Face model folder (config.json, model.safetensors, tokenizer files)';
  const dpo = preferenceOf(run);
  const dpoInput = dpo && { run, beta: dpo.beta, peft: peft !== null, dataset };
  const bringBack = dpo
    ? dpoBringBack(run, dpo.beta, peft !== null)
    : peft
      ? `Bring back \`output/final/\`. Whetstone imports it into the adapters library (or on the command line:
\`whetstone eval --model ${run.model.id}${quantization ? ` --quantize ${quantization}` : ''} --adapter output/final --data valid.jsonl\`), where it is evaluated
on the same validation split and compared with runs trained in the browser.`
      : `Bring back \`output/final/\`. Whetstone opens it as a model folder (\`whetstone eval --model output/final ...\`).`;
  const title = dpo
    ? dpoTitle(run, dpo.beta)
    : `# ${run.model.id}: ${run.method.method} fine-tuning, exported from Whetstone`;
  const opening = dpoInput
    ? dpoOpening(dpoInput, length)
    : `This folder runs the same experiment as the browser run, on GPUs, with Hugging Face TRL (\`SFTTrainer\`),
PEFT and accelerate: the same model, method and PEFT config, optimizer, schedule, batch size, gradient
accumulation, sequence length, prompt masking, seed, and the same examples split the same way
(${dataset.train.length} training and ${dataset.validation.length} validation examples, ${dataset.shape} rows).
It trains for ${length}.`;
  // The objective's own points: SFT's truncation, or DPO's reference, loss averaging and dropout.
  const objectiveDifferences = dpo
    ? dpoDifferences(run)
    : `
- TRL drops examples that truncation leaves with no trained token; Whetstone keeps them (they add nothing
  to the loss either way).`;
  return `${title}

${opening}${quantized}${loraPlusReadmeSentence(run)}${earlyStoppingReadmeSentence(run)}

| file | what it is |
| --- | --- |
| \`train.py\` | the training script; its settings block at the top holds the run's hyperparameters |
| \`dataset/train.jsonl\`, \`dataset/validation.jsonl\` | the examples, in TRL's dataset formats |
| \`accelerate/*.yaml\` | one GPU; DeepSpeed ZeRO-2; DeepSpeed ZeRO-3; FSDP |
| \`requirements.txt\` | pinned versions of torch, transformers, datasets, peft, trl, accelerate, deepspeed${quantization ? ', bitsandbytes' : ''} |
| \`run-config.json\` | the Whetstone run config this folder was made from |

## On one machine

\`\`\`sh
python3 -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt   # for another CUDA, install torch first from its index, then the rest
accelerate launch --config_file accelerate/single_gpu.yaml train.py
\`\`\`

Several GPUs in one machine (here 4): DeepSpeed ZeRO-2 for models that fit on one GPU, ZeRO-3 or FSDP for
models that do not:

\`\`\`sh
accelerate launch --config_file accelerate/deepspeed_zero2.yaml --num_processes 4 train.py
accelerate launch --config_file accelerate/deepspeed_zero3.yaml --num_processes 4 train.py
accelerate launch --config_file accelerate/fsdp.yaml --num_processes 4 train.py
\`\`\`

\`train.py --model PATH\` loads the model from a local folder instead of \`${run.model.id}\` (needed when
that is not a hub repo id); \`--output-dir DIR\` moves the output; \`--fp32\` trains in float32 as the
browser did (by default the matmuls run in bf16 where the GPU supports it; with the multi-GPU configs,
set \`mixed_precision: "no"\` in the YAML too).

## On a cluster

Run the same command on every machine, with the machine's rank and the address of machine 0. With N
machines of G GPUs each:

\`\`\`sh
accelerate launch --config_file accelerate/deepspeed_zero3.yaml \\
  --num_machines N --num_processes $((N * G)) --machine_rank RANK \\
  --main_process_ip HOST_OF_RANK_0 --main_process_port 29500 train.py
\`\`\`

Under Slurm, one task per node: \`RANK=$SLURM_NODEID\`, and HOST_OF_RANK_0 is the first host of
\`scontrol show hostnames $SLURM_JOB_NODELIST\`. Every machine needs this folder and the model.${earlyStoppingClusterNote(run)}

## What differs from the browser run

- Batch size is per GPU: on G GPUs each optimizer step sees G times the examples. To keep the browser
  run's batch, divide \`gradient_accumulation_steps\` in \`${dpo ? 'DPO' : 'SFT'}_KWARGS\` (and in the DeepSpeed YAML) by G.
- The same seed drives a different random generator (PyTorch's), so examples are visited in another
  order; dropout and initialisation draw other numbers too. Expect close, not identical, losses.${objectiveDifferences}${decayDifference}${
    quantization
      ? `
- On the ${name} base the model loads in bf16, its 4-bit codes stored in bf16 so that DeepSpeed and FSDP
  can shard them, and TRL keeps the adapters in bf16 too (QLoRA's recipe); \`--fp32\` keeps all of it in
  float32, as the browser did.`
      : ''
  }${dpo ? '' : earlyStoppingDifference(run)}
${dpo ? dpoMetricsSection : ''}
## What to bring back

${result}. ${bringBack}
`;
}
