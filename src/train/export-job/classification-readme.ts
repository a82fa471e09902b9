/**
 * README.md of an exported classification job: what the folder is, how to run it on one GPU and on
 * several, what the job does differently from the browser run (said plainly), and how to bring the
 * result back into the studio and score it on the same validation split.
 */
import type { ClassificationJobDataset } from './classification-dataset';
import { loraPlusDecayDifference, loraPlusRatio, loraPlusReadmeSentence } from './loraplus';
import type { JobPeftConfig } from './peft-config';
import type { RunConfig } from './run-config';

export interface ClassificationReadmeInput {
  run: RunConfig;
  peft: JobPeftConfig | null;
  dataset: Pick<ClassificationJobDataset, 'labelSet' | 'pairs' | 'train' | 'validation'>;
  maxLength: number;
}

export function classificationReadmeMd({ run, peft, dataset, maxLength }: ClassificationReadmeInput): string {
  const t = run.training;
  const length = t.steps === undefined ? `${t.epochs} epoch(s)` : `${t.steps} steps`;
  const labels = dataset.labelSet.map((label) => `\`${String(label)}\``).join(', ');
  const result = peft
    ? '`output/final/`: a PEFT adapter folder (`adapter_config.json` with `task_type` SEQ_CLS and ' +
      '`modules_to_save`, `adapter_model.safetensors` with the trained classification head)'
    : '`output/final/`: a Hugging Face model folder (config.json with id2label, model.safetensors, tokenizer files)';
  const bringBack = peft
    ? `In the studio, open **Adapters**, import the folder (or its two files), and evaluate it on the
split of this job: the studio kept that split when it wrote this folder (listed as "exported job"), and
scores the adapter on exactly these validation rows. On the command line, with \`${run.model.id}\`
downloaded to MODEL_DIR:
\`whetstone eval --task classification --model MODEL_DIR --adapter output/final --data dataset/validation.jsonl\`
prints its loss, accuracy and F1.`
    : `Load it in the studio as a model folder (model sources), or score it on the command line:
\`whetstone eval --task classification --model output/final --data dataset/validation.jsonl\`.`;
  const rows = dataset.pairs ? 'sentence pairs' : 'texts';
  return `# ${run.model.id}: ${run.method.method} classifier, exported from Whetstone

This folder runs the same experiment as the browser run, on GPUs, with Hugging Face transformers'
\`Trainer\`, \`AutoModelForSequenceClassification\`${peft ? ` and PEFT (\`${peft.className}\`, task_type SEQ_CLS)` : ''}:
the same model, method, optimizer, schedule, batch size, gradient accumulation, seed and evaluation
interval, and the same rows split the same way (${dataset.train.length} training and
${dataset.validation.length} validation ${rows}, at most ${maxLength} tokens each). It trains for ${length}.${loraPlusReadmeSentence(run)}

The ${dataset.labelSet.length} classes, in class-id order (the head's id2label names them so): ${labels}.
The validation metrics are accuracy and F1 (${dataset.labelSet.length === 2 ? 'binary, of class 1' : 'macro: the mean over classes'}), as the studio reports them.

| file | what it is |
| --- | --- |
| \`train.py\` | the training script; its settings block at the top holds the run's hyperparameters |
| \`dataset/train.jsonl\`, \`dataset/validation.jsonl\` | the rows: ${dataset.pairs ? '`sentence1`, `sentence2`' : '`text`'} and \`label\`, as the dataset had them |
| \`accelerate/*.yaml\` | one GPU; several GPUs (data parallel) |
| \`requirements.txt\` | pinned versions of torch, transformers, datasets, peft, accelerate |
| \`run-config.json\` | the Whetstone run config this folder was made from |

## Run it

\`\`\`sh
python3 -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt   # for another CUDA, install torch first from its index, then the rest
accelerate launch --config_file accelerate/single_gpu.yaml train.py
accelerate launch --config_file accelerate/multi_gpu.yaml --num_processes 4 train.py   # 4 GPUs
\`\`\`

\`train.py --model PATH\` loads the model from a local folder instead of \`${run.model.id}\`;
\`--output-dir DIR\` moves the output; \`--fp32\` trains in float32 as the browser did (by default the
matmuls run in bf16 where the GPU supports it).

## What differs from the browser run

- Batch size is per GPU: on G GPUs each optimizer step sees G times the rows. To keep the browser
  run's batch, divide \`gradient_accumulation_steps\` in \`TRAINING_KWARGS\` by G.
- The same seed drives a different random generator (PyTorch's), so rows are visited in another
  order, and dropout and a fresh head's initialisation draw other numbers. Expect close, not identical,
  losses and scores.
- Batches are padded to their longest row here; the browser pads every batch to the longest row of the
  data. Padding is masked, so it changes speed, not results.
- The studio also evaluates after every epoch; this script evaluates every \`eval_steps\` (when set)
  and at the end.${loraPlusRatio(run) === undefined ? '' : loraPlusDecayDifference}

## What to bring back

${result}. ${bringBack}
`;
}
