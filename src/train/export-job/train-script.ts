/**
 * train.py of an exported job: the run's settings as Python literals in one block at the top (MODEL_ID,
 * ATTN_IMPLEMENTATION, PEFT_CLASS, PEFT_KWARGS, SFT_KWARGS, DATA; the export tests read it back with ast.literal_eval), then
 * fixed code against the public APIs of transformers, datasets, peft and trl (SFTTrainer, SFTConfig).
 * A LoRA+ run adds LORAPLUS_LR_RATIO and trains with a SFTTrainer subclass whose optimizer is PEFT's
 * create_loraplus_optimizer (loraplus.ts); other runs' scripts are as before.
 * A QLoRA run (model.quantization) adds QUANTIZATION and loads its base through transformers'
 * BitsAndBytesConfig (PEFT's and bitsandbytes' FSDP/DeepSpeed QLoRA guides); other runs' scripts do not
 * mention bitsandbytes at all.
 * An early-stopping run (training.earlyStoppingPatience) adds EARLY_STOPPING_PATIENCE and transformers'
 * EarlyStoppingCallback, and SFT_KWARGS load the best checkpoint back at the end (early-stopping.ts).
 *
 * Text and prompt-completion rows go to TRL as they are: TRL tokenizes them as Whetstone does (EOS
 * appended; completion_only_loss masks the prompt). Conversations are tokenized here, with Whetstone's
 * rule (tokenize-examples.ts): with prompt masking EVERY assistant turn is trained, turn i spanning from
 * len(tokens(render(messages[:i], add_generation_prompt=True))) to len(tokens(render(messages[:i+1]))).
 * TRL's own assistant_only_loss needs {% generation %} markers that most chat templates lack, so the rows
 * carry their labels, which TRL keeps as they are. A model without a chat template gets Whetstone's
 * fallback template (chat-render.ts), with special tokens added as Whetstone adds them for it.
 */
import { FALLBACK_CHAT_TEMPLATE } from '../data/chat-render';
import {
  earlyStoppingCallbackPy,
  earlyStoppingImport,
  earlyStoppingReportPy,
  earlyStoppingSettings,
} from './early-stopping';
import { loraPlusImportPy, loraPlusSettings, loraPlusTrainerPy, trainerClass } from './loraplus';
import type { JobPeftConfig } from './peft-config';
import { type PythonJson, pythonLiteral } from './python-literal';
import type { BaseQuantization, RunConfig } from './run-config';
import type { DataShape } from './sft-config';

export interface TrainScriptInput {
  run: RunConfig;
  peft: JobPeftConfig | null;
  sft: Record<string, PythonJson>;
  shape: DataShape;
  hasValidation: boolean;
  /**
   * transformers' attention implementation, where the default would train another model: "eager" for
   * soft-capped attention (Gemma 2), which only eager applies. Absent: transformers' default.
   */
  attnImplementation?: 'eager';
}

/** main()'s command line, the same in every job script: the model, the output folder, float32. */
export const jobArgumentsPy = `    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=MODEL_ID, help="hub repo id or local folder (default: the run's)")
    parser.add_argument("--output-dir", default="output", help="checkpoints, and the result in OUTPUT_DIR/final")
    parser.add_argument(
        "--fp32", action="store_true", help="train in float32, as the browser did (default: bf16 where supported)"
    )
    args = parser.parse_args()`;

export const trainFile = 'dataset/train.jsonl';
export const validationFile = 'dataset/validation.jsonl';

/** The settings block: every run-specific value of the script, and nothing else. */
/** The settings both jobs open with: the model, its storage and attention, and the PEFT method. */
export function modelSettingLines(
  run: RunConfig,
  peft: JobPeftConfig | null,
  attnImplementation: string | undefined,
  assign: (name: string, value: PythonJson) => string,
): string[] {
  return [
    assign('MODEL_ID', run.model.id),
    assign('MODEL_REVISION', run.model.revision),
    ...(run.model.quantization ? [assign('QUANTIZATION', run.model.quantization)] : []),
    assign('ATTN_IMPLEMENTATION', attnImplementation ?? null),
    assign('METHOD', run.method.method),
    assign('PEFT_CLASS', peft?.className ?? null),
    assign('PEFT_KWARGS', peft?.kwargs ?? null),
  ];
}

function settingsBlock({
  run,
  peft,
  sft,
  shape,
  hasValidation,
  attnImplementation,
}: TrainScriptInput): string {
  const assign = (name: string, value: PythonJson) => `${name} = ${pythonLiteral(value)}`;
  return [
    ...modelSettingLines(run, peft, attnImplementation, assign),
    assign('SFT_KWARGS', sft),
    ...loraPlusSettings(run, assign),
    ...earlyStoppingSettings(run, assign),
    assign('DATA', {
      train_file: trainFile,
      validation_file: hasValidation ? validationFile : null,
      shape,
      mask_prompt: run.data.maskPrompt,
      packing: run.data.packing,
    }),
    assign('FALLBACK_CHAT_TEMPLATE', FALLBACK_CHAT_TEMPLATE),
  ].join('\n');
}

export const peftImport = (peft: JobPeftConfig | null) =>
  peft ? `from peft import ${peft.className}\n` : '';

export const peftConstruct = (peft: JobPeftConfig | null) =>
  peft ? `${peft.className}(**PEFT_KWARGS)` : 'None  # full fine-tuning: every weight trains';

export const transformersImport = (run: RunConfig) =>
  `from transformers import AutoModelForCausalLM, AutoTokenizer${run.model.quantization ? ', BitsAndBytesConfig' : ''}${earlyStoppingImport(run)}`;

/**
 * Loading the base. Unquantized: float32 weights, bf16 autocast for the matmuls. QLoRA: as PEFT's and
 * bitsandbytes' FSDP/ZeRO-3 guides load it, in one float dtype that also stores the packed 4-bit codes.
 */
export function modelLoadPy(quantization?: BaseQuantization, configClass = 'SFTConfig'): string {
  if (!quantization)
    return `    # Weights stay float32 (the optimizer's master copy); bf16 is autocast for the matmuls.
    model = AutoModelForCausalLM.from_pretrained(
        args.model, revision=MODEL_REVISION, dtype=torch.float32, attn_implementation=ATTN_IMPLEMENTATION
    )`;
  return `    # QLoRA, as the browser run: bitsandbytes loads the decoder layers' linear weights as 4-bit NormalFloat
    # (blocks of 64, absmax in float32, no double quantization; embeddings and lm_head stay as they are), on
    # this process's GPU, which ${configClass} has picked. The packed codes are stored in the float dtype the model
    # trains in (bnb_4bit_quant_storage) and the model loads in that dtype: FSDP shards only float tensors of
    # one dtype, and DeepSpeed and FSDP cast every float parameter to the mixed-precision dtype, which would
    # garble codes stored in any other. So bf16 throughout, or float32 with --fp32.
    dtype = torch.bfloat16 if bf16 else torch.float32
    sharded = any(os.environ.get(f"ACCELERATE_USE_{name}", "").lower() == "true" for name in ("DEEPSPEED", "FSDP"))
    if sharded and dtype == torch.float32 and os.environ.get("ACCELERATE_MIXED_PRECISION", "no") != "no":
        raise SystemExit(
            "4-bit codes stored in float32 (--fp32, or a GPU without bf16) would be cast by DeepSpeed or FSDP to"
            ' the mixed precision of the accelerate YAML: set mixed_precision: "no" in it.'
        )
    quantization_config = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=QUANTIZATION,
        bnb_4bit_use_double_quant=False,
        bnb_4bit_compute_dtype=dtype,
        bnb_4bit_quant_storage=dtype,
    )
    model = AutoModelForCausalLM.from_pretrained(
        args.model,
        revision=MODEL_REVISION,
        dtype=dtype,
        attn_implementation=ATTN_IMPLEMENTATION,
        quantization_config=quantization_config,
    )`;
}

/** QLoRA in float32: TRL keeps a 4-bit model's trainable weights in bf16, so they are set back. */
export const float32AdaptersPy = (quantization?: BaseQuantization) =>
  quantization
    ? `
    if not bf16:
        # TRL keeps a 4-bit model's trainable weights in bf16 (QLoRA's recipe); float32 runs train them in float32.
        for param in trainer.model.parameters():
            if param.requires_grad:
                param.data = param.data.float()`
    : '';

/**
 * The top of a job's train.py, the same for SFT and DPO: the docstring with the launch command, the
 * imports (PEFT, LoRA+, transformers and TRL's <kind>Config and <kind>Trainer), the run's settings block,
 * and the LoRA+ trainer subclass when the run uses it.
 */
export function scriptPreamble(
  run: RunConfig,
  peft: JobPeftConfig | null,
  trainerName: string,
  kind: 'SFT' | 'DPO',
  settings: string,
): string {
  const base = run.model.quantization ? `, ${run.model.quantization.toUpperCase()} base` : '';
  const goal = kind === 'SFT' ? 'Fine-tune' : 'DPO on';
  return `#!/usr/bin/env python3
"""${goal} ${run.model.id} (${run.method.method}${base}) with ${trainerName}: a Whetstone run, exported.

    accelerate launch --config_file accelerate/single_gpu.yaml train.py

The block below holds the browser run's settings, written by \`whetstone export-job\`; the code after it
reads only those. README.md says how to run this on several GPUs or machines and what to bring back.
"""

import argparse
import json
import os

import torch
from datasets import Dataset
${peftImport(peft)}${loraPlusImportPy(run)}${transformersImport(run)}
from trl import ${kind}Config, ${kind}Trainer

# ---- The run's settings (generated) ----
${settings}
# ---- End of the run's settings ----


${loraPlusTrainerPy(run, `${kind}Trainer`)}`;
}

export function trainScript(input: TrainScriptInput): string {
  const { run, peft } = input;
  return `${scriptPreamble(run, peft, "TRL's SFTTrainer", 'SFT', settingsBlock(input))}def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def conversation_features(row, tokenizer, use_fallback, mask_prompt, packing):
    """input_ids and labels of one conversation, as Whetstone built them (-100: not trained)."""
    if "messages" in row:
        messages, train_from = row["messages"], 0
    else:  # conversational prompt-completion: only the completion's turns train
        messages, train_from = row["prompt"] + row["completion"], len(row["prompt"])

    def render(conversation, add_generation_prompt):
        return tokenizer.apply_chat_template(
            conversation, tokenize=False, add_generation_prompt=add_generation_prompt
        )

    def encode(text):
        # A model's template writes its own special tokens; the fallback template does not.
        return tokenizer(text, add_special_tokens=use_fallback)["input_ids"]

    input_ids = encode(render(messages, False))
    if mask_prompt:
        labels = [-100] * len(input_ids)
        for i, message in enumerate(messages):
            if i < train_from or message["role"] != "assistant":
                continue
            try:
                before = render(messages[:i], True)
            except Exception:  # some templates fail on an empty conversation: the turn starts at 0
                before = ""
            start = len(encode(before)) if before else 0
            end = min(len(encode(render(messages[: i + 1], False))), len(input_ids))
            labels[start:end] = input_ids[start:end]
    else:
        labels = list(input_ids)
    eos = tokenizer.eos_token_id
    if packing and eos is not None and input_ids and input_ids[-1] != eos:
        # Packing separates examples by EOS, trained when the example's last token is.
        input_ids = input_ids + [eos]
        labels = labels + [-100 if labels[-1] == -100 else eos]
    return {"input_ids": input_ids, "labels": labels}


def load_split(path, tokenizer, use_fallback):
    rows = read_jsonl(path)
    if DATA["shape"] == "conversation":
        rows = [
            conversation_features(row, tokenizer, use_fallback, DATA["mask_prompt"], DATA["packing"])
            for row in rows
        ]
    return Dataset.from_list(rows)


def main():
${jobArgumentsPy}

    tokenizer = AutoTokenizer.from_pretrained(args.model, revision=MODEL_REVISION)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    use_fallback = DATA["shape"] == "conversation" and tokenizer.chat_template is None
    if use_fallback:
        tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE

    train_dataset = load_split(DATA["train_file"], tokenizer, use_fallback)
    eval_dataset = (
        load_split(DATA["validation_file"], tokenizer, use_fallback) if DATA["validation_file"] else None
    )

    bf16 = not args.fp32 and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    config = SFTConfig(output_dir=args.output_dir, bf16=bf16, report_to="none", **SFT_KWARGS)
${modelLoadPy(run.model.quantization)}
    peft_config = ${peftConstruct(peft)}

    trainer = ${trainerClass(run, 'SFTTrainer')}(
        model=model,
        args=config,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=peft_config,${earlyStoppingCallbackPy(run)}
    )${float32AdaptersPy(run.model.quantization)}
    trainer.train()${earlyStoppingReportPy(run)}
    if eval_dataset is not None:
        metrics = trainer.evaluate()
        if trainer.accelerator.is_main_process:
            print(json.dumps({"eval_loss": metrics.get("eval_loss")}))
    final = os.path.join(args.output_dir, "final")
    trainer.save_model(final)  # PEFT: adapter_config.json + adapter_model.safetensors; full: the model
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(final)
        print(f"wrote {final}")


if __name__ == "__main__":
    main()
`;
}
