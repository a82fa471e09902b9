/**
 * train.py of an exported DPO job (training.preference; dpo.ts says what maps to what): the run's settings
 * as Python literals in one block at the top (MODEL_ID, PEFT_CLASS, PEFT_KWARGS, DPO_KWARGS, DATA; the
 * export tests read them back with ast.literal_eval), then fixed code against TRL's DPOTrainer and
 * DPOConfig. The pieces SFT jobs have are shared with train-script.ts, not copied: the command line, the
 * model's loading (float32, or QLoRA's NF4 base through bitsandbytes) and PEFT's config, LoRA+'s trainer
 * subclass (loraplus.ts) and early stopping's callback and report (early-stopping.ts).
 *
 * The rows go to TRL as they are (preference-dataset.ts); TRL tokenizes them as the browser did
 * (tokenize-preferences.ts). One case needs help: a model without a chat template. The browser renders its
 * conversations with Whetstone's fallback template and tokenizes the text as plain text, special tokens
 * added (Llama's BOS); apply_chat_template adds none, so train.py gives the fallback template those
 * tokens' text in front.
 */
import { FALLBACK_CHAT_TEMPLATE } from '../data/chat-render';
import { earlyStoppingCallbackPy, earlyStoppingReportPy, earlyStoppingSettings } from './early-stopping';
import { loraPlusSettings, trainerClass } from './loraplus';
import type { JobPeftConfig } from './peft-config';
import { type PythonJson, pythonLiteral } from './python-literal';
import type { RunConfig } from './run-config';
import {
  float32AdaptersPy,
  jobArgumentsPy,
  modelLoadPy,
  modelSettingLines,
  peftConstruct,
  scriptPreamble,
  trainFile,
  validationFile,
} from './train-script';

export interface DpoScriptInput {
  run: RunConfig;
  peft: JobPeftConfig | null;
  /** DPOConfig keyword arguments (dpoKwargs). */
  dpo: Record<string, PythonJson>;
  /** Message-list pairs: the tokenizer needs a chat template. */
  conversational: boolean;
  hasValidation: boolean;
  /** transformers' attention implementation where its default would train another model ("eager": Gemma 2). */
  attnImplementation?: 'eager';
}

function settingsBlock({
  run,
  peft,
  dpo,
  conversational,
  hasValidation,
  attnImplementation,
}: DpoScriptInput) {
  const assign = (name: string, value: PythonJson) => `${name} = ${pythonLiteral(value)}`;
  return [
    ...modelSettingLines(run, peft, attnImplementation, assign),
    assign('DPO_KWARGS', dpo),
    ...loraPlusSettings(run, assign),
    ...earlyStoppingSettings(run, assign),
    assign('DATA', {
      train_file: trainFile,
      validation_file: hasValidation ? validationFile : null,
      conversational,
    }),
    ...(conversational ? [assign('FALLBACK_CHAT_TEMPLATE', FALLBACK_CHAT_TEMPLATE)] : []),
  ].join('\n');
}

const chatTemplatePy = (conversational: boolean) =>
  conversational
    ? `
    if tokenizer.chat_template is None:
        # As the browser: Whetstone's fallback template, its text tokenized with the special tokens the tokenizer
        # adds to plain text (Llama's BOS), which apply_chat_template leaves to the template.
        tokenizer.chat_template = tokenizer.decode(tokenizer("")["input_ids"]) + FALLBACK_CHAT_TEMPLATE`
    : '';

/**
 * Full fine-tuning's reference without precomputation (FSDP): a second copy loaded as the first, since
 * TRL's own would load from the path without the revision or attention implementation. PEFT's reference is
 * its base with the adapter disabled, so a PEFT job has none.
 */
const fullReferencePy = (peft: JobPeftConfig | null) =>
  peft
    ? ''
    : `
    # Without precomputation (FSDP) the reference is a second copy of the model as loaded, frozen.
    ref_model = load_model(args, bf16) if fsdp else None`;

export function dpoScript(input: DpoScriptInput): string {
  const { run, peft } = input;
  return `${scriptPreamble(run, peft, "TRL's DPOTrainer", 'DPO', settingsBlock(input))}def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_model(args, bf16):
    """The base model, as the browser run loaded it."""
${modelLoadPy(run.model.quantization, 'DPOConfig')}
    return model


def main():
${jobArgumentsPy}

    tokenizer = AutoTokenizer.from_pretrained(args.model, revision=MODEL_REVISION)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token${chatTemplatePy(input.conversational)}
    # {"prompt", "chosen", "rejected"}: TRL tokenizes them, cuts each side to max_length and leaves out pairs
    # whose prompt alone fills it, as the browser did.
    train_dataset = Dataset.from_list(read_jsonl(DATA["train_file"]))
    eval_dataset = Dataset.from_list(read_jsonl(DATA["validation_file"])) if DATA["validation_file"] else None

    bf16 = not args.fp32 and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    dpo_kwargs = dict(DPO_KWARGS)
    # The reference is the model before training, scored once before the first step (precompute_ref_log_probs).
    # TRL scores it before FSDP has placed the model, on weights still on the CPU (trl#6470): under FSDP the
    # same frozen reference is scored at every step instead.
    fsdp = os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true"
    if fsdp:
        dpo_kwargs["precompute_ref_log_probs"] = False
    config = DPOConfig(output_dir=args.output_dir, bf16=bf16, report_to="none", **dpo_kwargs)
    # DPOTrainer makes PEFT's adapter before the Trainer seeds itself: seeded here, a rerun starts the same.
    torch.manual_seed(config.seed)
    model = load_model(args, bf16)
    peft_config = ${peftConstruct(peft)}${fullReferencePy(peft)}

    trainer = ${trainerClass(run, 'DPOTrainer')}(
        model=model,${peft ? '' : '\n        ref_model=ref_model,'}
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
            names = ("loss", "rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected")
            print(json.dumps({f"eval_{name}": metrics.get(f"eval_{name}") for name in names}))
    final = os.path.join(args.output_dir, "final")
    trainer.save_model(final)  # PEFT: adapter_config.json + adapter_model.safetensors; full: the model
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(final)
        print(f"wrote {final}")


if __name__ == "__main__":
    main()
`;
}
