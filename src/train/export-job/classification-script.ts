/**
 * train.py of an exported classification job: the run's settings as Python literals in one block at the
 * top (MODEL_ID, PEFT_CLASS, PEFT_KWARGS, TRAINING_KWARGS, LABELS, DATA; the tests read it back with
 * ast.literal_eval), then fixed code against the public APIs of transformers (Trainer,
 * AutoModelForSequenceClassification), datasets and peft:
 * - the head is sized by LABELS (num_labels, id2label and label2id in Whetstone's class-id order);
 *   a checkpoint head of another size is replaced (ignore_mismatched_sizes), as the classifier does;
 * - each row is tokenized as HF tokenizes it, tokenizer(text, pair, truncation=True, max_length=...),
 *   which is what Whetstone's PairEncoder reproduces; its label becomes its index in LABELS;
 * - PEFT: get_peft_model(model, PEFT_CLASS(task_type="SEQ_CLS", ...)); PEFT trains and saves the head
 *   ("classifier") in full; head modules the checkpoint lacked (DistilBERT's pre_classifier, a missing
 *   pooler) are added to modules_to_save, as Whetstone trains and saves them;
 * - accuracy and F1 (binary F1 of class 1 for two classes, macro otherwise, 0 where undefined: sklearn's
 *   and metrics/classification.ts's definition) in compute_metrics with numpy alone;
 * - LoRA+ (training.loraPlusLrRatio): LORAPLUS_LR_RATIO and a Trainer subclass whose optimizer is PEFT's
 *   create_loraplus_optimizer (loraplus.ts).
 */
import type { Label } from '../data/labels';
import { loraPlusImportPy, loraPlusSettings, loraPlusTrainerPy, trainerClass } from './loraplus';
import type { JobPeftConfig } from './peft-config';
import { type PythonJson, pythonLiteral } from './python-literal';
import type { RunConfig } from './run-config';
import { jobArgumentsPy, trainFile, validationFile } from './train-script';

export interface ClassificationScriptInput {
  run: RunConfig;
  peft: JobPeftConfig | null;
  training: Record<string, PythonJson>;
  labelSet: Label[];
  pairs: boolean;
  maxLength: number;
  hasValidation: boolean;
}

function settingsBlock(input: ClassificationScriptInput): string {
  const { run, peft } = input;
  const assign = (name: string, value: PythonJson) => `${name} = ${pythonLiteral(value)}`;
  return [
    assign('MODEL_ID', run.model.id),
    assign('MODEL_REVISION', run.model.revision),
    assign('METHOD', run.method.method),
    assign('PEFT_CLASS', peft?.className ?? null),
    assign('PEFT_KWARGS', peft?.kwargs ?? null),
    assign('TRAINING_KWARGS', input.training),
    ...loraPlusSettings(run, assign),
    // Class names by class id: the rows' "label" is the index into this list.
    assign(
      'LABELS',
      input.labelSet.map((label) => String(label)),
    ),
    assign('DATA', {
      train_file: trainFile,
      validation_file: input.hasValidation ? validationFile : null,
      pairs: input.pairs,
      max_length: input.maxLength,
    }),
  ].join('\n');
}

const peftImport = (peft: JobPeftConfig | null) =>
  peft ? `from peft import ${peft.className}, get_peft_model\n` : '';

const peftWrap = (peft: JobPeftConfig | null) =>
  peft
    ? `# Head modules the checkpoint lacked train and are saved beside PEFT's "classifier": top-level ones
    # (DistilBERT's pre_classifier) and BERT's pooler, not buffers deeper in the encoder.
    fresh_head = sorted(
        module
        for module in fresh_modules
        if not module.startswith("classifier") and ("." not in module or module.endswith("pooler.dense"))
    )
    peft_kwargs = dict(PEFT_KWARGS, **({"modules_to_save": fresh_head} if fresh_head else {}))
    model = get_peft_model(model, ${peft.className}(**peft_kwargs))
    model.print_trainable_parameters()`
    : '# Full fine-tuning: every weight trains, no PEFT.';

export function classificationScript(input: ClassificationScriptInput): string {
  const { run, peft } = input;
  return `#!/usr/bin/env python3
"""Fine-tune ${run.model.id} as a ${input.labelSet.length}-class classifier (${run.method.method}) with transformers' Trainer: a Whetstone run, exported.

    accelerate launch --config_file accelerate/single_gpu.yaml train.py

The block below holds the browser run's settings, written by Whetstone's "Run at scale"; the code after
it reads only those. README.md says how to run this on several GPUs and what to bring back.
"""

import argparse
import json
import os

import numpy as np
import torch
from datasets import Dataset
${peftImport(peft)}${loraPlusImportPy(run)}from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
)

# ---- The run's settings (generated) ----
${settingsBlock(input)}
# ---- End of the run's settings ----


${loraPlusTrainerPy(run, 'Trainer')}def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def label_text(label):
    """A label as LABELS names it: JSON numbers as JavaScript's String() writes them (1, not 1.0)."""
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def load_split(path, tokenizer):
    """Rows tokenized as HF tokenizes a text or a pair: truncation=True (longest first), max_length."""
    label2id = {label: i for i, label in enumerate(LABELS)}

    def encode(row):
        if DATA["pairs"]:
            text, pair = row["sentence1"], row.get("sentence2")
        else:
            text, pair = row["text"], None
        features = dict(tokenizer(text, pair, truncation=True, max_length=DATA["max_length"]))
        features["label"] = label2id[label_text(row["label"])]
        return features

    return Dataset.from_list([encode(row) for row in read_jsonl(path)])


def f1_scores(predictions, labels, num_labels):
    """F1 of each class: 2·tp / (2·tp + fp + fn), 0 where a class has no examples and no predictions."""
    scores = []
    for c in range(num_labels):
        tp = np.sum((predictions == c) & (labels == c))
        denominator = np.sum(predictions == c) + np.sum(labels == c)
        scores.append(float(2 * tp / denominator) if denominator > 0 else 0.0)
    return scores


def compute_metrics(eval_prediction):
    """Accuracy, and F1: binary (class 1) for two classes, macro (unweighted mean) for more."""
    logits, labels = eval_prediction
    if isinstance(logits, tuple):
        logits = logits[0]
    predictions = np.argmax(np.asarray(logits), axis=-1)
    labels = np.asarray(labels)
    scores = f1_scores(predictions, labels, len(LABELS))
    f1 = scores[1] if len(LABELS) == 2 else float(np.mean(scores))
    return {"accuracy": float(np.mean(predictions == labels)), "f1": f1}


def main():
${jobArgumentsPy}

    tokenizer = AutoTokenizer.from_pretrained(args.model, revision=MODEL_REVISION)
    train_dataset = load_split(DATA["train_file"], tokenizer)
    eval_dataset = load_split(DATA["validation_file"], tokenizer) if DATA["validation_file"] else None

    # Weights stay float32 (the optimizer's master copy); bf16 is autocast for the matmuls.
    model, loading = AutoModelForSequenceClassification.from_pretrained(
        args.model,
        revision=MODEL_REVISION,
        dtype=torch.float32,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        ignore_mismatched_sizes=True,
        output_loading_info=True,
    )
    # Weights the checkpoint lacked, or held at another size (a head for other classes): freshly initialised.
    mismatched = [entry if isinstance(entry, str) else entry[0] for entry in loading["mismatched_keys"]]
    fresh_keys = list(loading["missing_keys"]) + mismatched
    fresh_modules = {key.rsplit(".", 1)[0] for key in fresh_keys}
    ${peftWrap(peft)}

    bf16 = not args.fp32 and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    config = TrainingArguments(output_dir=args.output_dir, bf16=bf16, report_to="none", **TRAINING_KWARGS)
    trainer = ${trainerClass(run, 'Trainer')}(
        model=model,
        args=config,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics,
    )
    trainer.train()
    if eval_dataset is not None:
        metrics = trainer.evaluate()
        if trainer.accelerator.is_main_process:
            print(json.dumps({key: metrics.get(f"eval_{key}") for key in ("loss", "accuracy", "f1")}))
    final = os.path.join(args.output_dir, "final")
    # PEFT: adapter_config.json + adapter_model.safetensors with the head; full: the model with id2label.
    trainer.save_model(final)
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(final)
        print(f"wrote {final}")


if __name__ == "__main__":
    main()
`;
}
