/**
 * LoRA+ (Hayou et al. 2024, "LoRA+: Efficient Low Rank Adaptation of Large Models") in an exported job,
 * for both scripts (train-script.ts, classification-script.ts): the LORAPLUS_LR_RATIO setting, PEFT's
 * `create_loraplus_optimizer` built in a small Trainer subclass, and the README's lines. A run without
 * `training.loraPlusLrRatio` gets none of it, so its files stay as they were.
 *
 * PEFT groups as the browser's optimizer does (loraPlusLrScale in optim/optimizer.ts): every trainable
 * tensor named lora_B, and every 1-D one, at ratio × lr; the rest (lora_A, 2-D head weights) at lr.
 * The optimizer is made in `create_optimizer`, not passed as `optimizers=(...)`, which transformers refuses
 * under FSDP: the Trainer calls create_optimizer on the PEFT model itself with every shipped accelerate
 * YAML. On one GPU and under DDP, before accelerate prepares the model; under DeepSpeed without an
 * optimizer block (accelerate writes none from its YAML), from deepspeed_init, before the engine wraps or
 * partitions anything (LoRA's tensors are made by get_peft_model, outside ZeRO-3's zero.Init); under FSDP2,
 * before fully_shard, and accelerate then maps the groups onto the sharded parameters. Each tensor
 * therefore has its own name and shape, which PEFT's grouping reads. FSDP1 makes the optimizer after
 * wrapping, on flattened parameters: the script stops there rather than group them wrongly.
 */
import { ExportJobError } from './errors';
import { float, type PythonJson } from './python-literal';
import type { RunConfig } from './run-config';

/** The run's LoRA+ ratio, or undefined when it trains without LoRA+. */
export const loraPlusRatio = (run: RunConfig): number | undefined => run.training.loraPlusLrRatio;

/** parseRunConfig refuses this too; a run config built in code reaches export without it. */
export function refuseLoraPlusWithoutLora(run: RunConfig): void {
  if (run.training.loraPlusLrRatio !== undefined && run.method.method !== 'lora')
    throw new ExportJobError(
      `LoRA+ (training.loraPlusLrRatio) sets the learning rate of LoRA's B matrices; this run trains ` +
        `${run.method.method}, which has none. Leave the ratio out, or export a LoRA or DoRA run.`,
    );
}

/** The settings block's LoRA+ lines (after the training keyword arguments); none without LoRA+. */
export function loraPlusSettings(
  run: RunConfig,
  assign: (name: string, value: PythonJson) => string,
): string[] {
  const ratio = loraPlusRatio(run);
  if (ratio === undefined) return [];
  return [
    "# LoRA+: LoRA's B matrices and every trainable vector learn at this many times the learning rate.",
    assign('LORAPLUS_LR_RATIO', float(ratio)),
  ];
}

export const loraPlusImportPy = (run: RunConfig) =>
  loraPlusRatio(run) === undefined ? '' : 'from peft.optimizers import create_loraplus_optimizer\n';

/** The trainers a job script makes: TRL's SFT and DPO trainers, transformers' Trainer for classifiers. */
export type LoraPlusBase = 'SFTTrainer' | 'DPOTrainer' | 'Trainer';

/** The trainer class train.py makes: `base` itself, or its LoRA+ subclass. */
export const trainerClass = (run: RunConfig, base: LoraPlusBase) =>
  loraPlusRatio(run) === undefined ? base : `LoraPlus${base}`;

/** The LoRA+ subclass of `base`, with the two blank lines that follow it; '' without LoRA+. */
export function loraPlusTrainerPy(run: RunConfig, base: LoraPlusBase): string {
  if (loraPlusRatio(run) === undefined) return '';
  return `class ${trainerClass(run, base)}(${base}):
    """${base} whose optimizer is LoRA+, PEFT's create_loraplus_optimizer: lora_B matrices and every
    trainable vector at LORAPLUS_LR_RATIO times the learning rate, the rest at the rate itself.

    Made here rather than passed as optimizers=(...), which transformers refuses under FSDP: the Trainer
    calls create_optimizer with the PEFT model as self.model on one GPU, under DeepSpeed (from
    deepspeed_init, before the engine wraps it) and under FSDP2 (before the model is sharded), so PEFT
    sees each tensor's own name and shape, which its grouping goes by.
    """

    def create_optimizer(self, model=None):  # a model is passed only when FSDP1 has wrapped it first
        if self.optimizer is not None:  # made already: under DeepSpeed, deepspeed_init calls this first
            return self.optimizer
        model = self.model if model is None else model
        args = self.args
        if args.optim == "adamw_torch":
            optimizer_cls = torch.optim.AdamW
            hyperparameters = {"betas": (args.adam_beta1, args.adam_beta2), "eps": args.adam_epsilon}
        elif args.optim == "sgd":
            optimizer_cls, hyperparameters = torch.optim.SGD, {}
        else:
            raise SystemExit('LoRA+ builds AdamW or SGD from torch: set "optim" to "adamw_torch" or "sgd".')
        matrices = [
            param.ndim
            for name, param in model.named_parameters()
            if param.requires_grad and ("lora_A" in name or "lora_B" in name)
        ]
        if not matrices or any(ndim != 2 for ndim in matrices):
            raise SystemExit(
                "LoRA+ tells LoRA's matrices apart by name and shape, but this launcher hands the optimizer"
                " flattened parameters (FSDP1 does): use accelerate/fsdp.yaml (FSDP2), DeepSpeed or one GPU."
            )
        self.optimizer = create_loraplus_optimizer(
            model,
            optimizer_cls,
            lr=args.learning_rate,
            loraplus_lr_ratio=LORAPLUS_LR_RATIO,
            loraplus_weight_decay=args.weight_decay,
            **hyperparameters,
        )
        return self.optimizer


`;
}

/** The README's sentence on the optimizer (after the opening paragraph); '' without LoRA+. */
export function loraPlusReadmeSentence(run: RunConfig): string {
  const ratio = loraPlusRatio(run);
  if (ratio === undefined) return '';
  return `\nThe optimizer is LoRA+, as in the browser run: PEFT's \`create_loraplus_optimizer\` with
\`loraplus_lr_ratio\` ${ratio} (\`LORAPLUS_LR_RATIO\`), so LoRA's B matrices and every trainable vector
learn at ${ratio} times the learning rate.`;
}

/** The README's "what differs" point on weight decay under LoRA+ (a list item, newline first). */
export const loraPlusDecayDifference = `
- With weight decay above 0, PEFT's LoRA+ optimizer also decays DoRA's magnitude vectors (at the ratio's
  rate); Whetstone decays only tensors of two or more dimensions.`;
