// A DPO run's job (training.preference): train.py trains TRL's DPOTrainer with DPOConfig keyword arguments
// written out here by hand from the run (β, the sigmoid loss, the precomputed reference, max_length the
// sequence length, and the SFT job's optimizer, schedule, batch, evaluation mapping), read back by a real
// python3 through ast; full fine-tuning gets its FSDP reference, LoRA+, QLoRA and early stopping their
// pieces; the dataset is the pairs, split as the browser splits them; the README says what it trains and
// how TRL's metrics read. Refused by name: prompt tuning, data that is not pairs, mixed kinds of pairs.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load-dataset';
import { splitTrainValidation } from '../data/split';
import { ExportJobError, exportJob, parseRunConfig, type RunConfig } from './index';
import { pinnedPackages } from './requirements';
import {
  noPythonReason,
  pyCompile,
  python3Available,
  pythonSettings,
  runPython,
  writeTemp,
} from './testing/python';
import { chatBytes, chatTraining, jsonlBytes, tinyDecoder } from './testing/run-fixtures';

const pairRows = Array.from({ length: 12 }, (_, i) => ({
  prompt: `Question ${i}?`,
  chosen: ` Right ${i}.`,
  rejected: ` Wrong ${i * 3}.`,
}));
const pairs = { name: 'pairs.jsonl', bytes: jsonlBytes(pairRows) };

/** A DPO run on pairs.jsonl (a quarter held out) with chatTraining's distinct values and β 0.25. */
function dpoRun(method: Record<string, unknown>, overrides: Record<string, unknown> = {}): RunConfig {
  return parseRunConfig({
    model: { id: 'HuggingFaceTB/SmolLM2-135M-Instruct' },
    method,
    training: { ...chatTraining, preference: { beta: 0.25 }, ...overrides },
    data: { file: 'pairs.jsonl', validationFraction: 0.25 },
  });
}

/** What DPO_KWARGS must hold for dpoRun: chatTraining's values, by hand. */
const expectedDpo = {
  beta: 0.25,
  loss_type: ['sigmoid'],
  precompute_ref_log_probs: true,
  disable_dropout: true,
  learning_rate: 3.7e-4,
  optim: 'adamw_torch',
  adam_beta1: 0.85,
  adam_beta2: 0.98,
  adam_epsilon: 1e-7,
  weight_decay: 0.03,
  max_grad_norm: 0.7,
  lr_scheduler_type: 'cosine',
  warmup_steps: 7,
  max_steps: 123,
  per_device_train_batch_size: 3,
  per_device_eval_batch_size: 3,
  gradient_accumulation_steps: 5,
  max_length: 48,
  truncation_mode: 'keep_start',
  seed: 1234,
  data_seed: 1234,
  train_sampling_strategy: 'sequential',
  gradient_checkpointing: true,
  eval_strategy: 'steps',
  eval_steps: 11,
  logging_steps: 1,
};

/** The trainer call of main(), the classes train.py defines, and what it imports, read by ast. */
const scriptReader = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
call = next(n.value for n in ast.walk(main) if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "trainer")
imports = {n.module: [a.name for a in n.names] for n in tree.body if isinstance(n, ast.ImportFrom)}
classes = {n.name: [ast.unparse(b) for b in n.bases] for n in tree.body if isinstance(n, ast.ClassDef)}
print(json.dumps({"trainer": ast.unparse(call.func), "keywords": {k.arg: ast.unparse(k.value) for k in call.keywords}, "imports": imports, "classes": classes}))
`;

function readScript(path: string): {
  trainer: string;
  keywords: Record<string, string>;
  imports: Record<string, string[]>;
  classes: Record<string, string[]>;
} {
  const run = runPython(['-c', scriptReader, path]);
  if (run.status !== 0) throw new Error(`reading ${path} failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

async function exported(run: RunConfig, family: 'llama' | 'qwen2' = 'llama') {
  const files = await exportJob({ run, model: tinyDecoder(family), dataset: pairs });
  const dir = writeTemp(files);
  const script = join(dir, 'train.py');
  expect(pyCompile(script)).toMatchObject({ status: 0, stderr: '' });
  return { files, script, settings: pythonSettings(script), call: readScript(script) };
}

const rows = (text: string | undefined) =>
  (text ?? '')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);

describe.skipIf(!python3Available)(
  `DPO jobs: train.py through python3 (skipped only if ${noPythonReason})`,
  () => {
    it("a LoRA run: DPOTrainer, DPO_KWARGS from the run, PEFT's config, the pairs split as the browser splits them", async () => {
      const { files, settings, call } = await exported(dpoRun({ method: 'lora', r: 4, alpha: 8 }));
      expect(settings.DPO_KWARGS).toEqual(expectedDpo);
      expect(settings).not.toHaveProperty('SFT_KWARGS');
      expect(settings.PEFT_CLASS).toBe('LoraConfig');
      expect(settings.PEFT_KWARGS).toMatchObject({ r: 4, lora_alpha: 8, task_type: 'CAUSAL_LM' });
      expect(settings.DATA).toEqual({
        train_file: 'dataset/train.jsonl',
        validation_file: 'dataset/validation.jsonl',
        conversational: false,
      });
      expect(settings).not.toHaveProperty('FALLBACK_CHAT_TEMPLATE');
      expect(call.trainer).toBe('DPOTrainer');
      expect(call.imports.trl).toEqual(['DPOConfig', 'DPOTrainer']);
      expect(call.imports.peft).toEqual(['LoraConfig']);
      // PEFT's reference is its base with the adapter disabled: no second model.
      expect(call.keywords).toMatchObject({ peft_config: 'peft_config', model: 'model', args: 'config' });
      expect(call.keywords).not.toHaveProperty('ref_model');
      expect(files['train.py']).not.toMatch(/SFT/);
      // PEFT's adapter is made inside DPOTrainer before the Trainer seeds itself: seeded first.
      const script = files['train.py'] ?? '';
      expect(script.indexOf('    torch.manual_seed(config.seed)\n')).toBeGreaterThan(0);
      expect(script.indexOf('    torch.manual_seed(config.seed)\n')).toBeLessThan(
        script.indexOf('trainer = DPOTrainer('),
      );

      const split = splitTrainValidation(pairRows, { validationFraction: 0.25, seed: 1234 });
      expect(rows(files['dataset/train.jsonl'])).toEqual(split.train);
      expect(rows(files['dataset/validation.jsonl'])).toEqual(split.validation);
      expect(split.validation).toHaveLength(3);
      expect(parseRunConfig(JSON.parse(files['run-config.json'] ?? ''))).toEqual(
        dpoRun({ method: 'lora', r: 4, alpha: 8 }),
      );
      expect(files['requirements.txt']).toContain(`trl==${pinnedPackages.trl}`);

      const readme = files['README.md'] ?? '';
      expect(readme).toMatch(/^# HuggingFaceTB\/SmolLM2-135M-Instruct: lora DPO \(β 0\.25\)/);
      expect(readme).toContain("TRL's sigmoid loss at β = 0.25");
      expect(readme).toContain('(9 training and 3 validation pairs, preference rows)');
      expect(readme).toContain('the base model with the adapter disabled');
      expect(readme).toContain('cut to 48 tokens');
      expect(readme).toContain('`rewards/accuracies`');
      expect(readme).toContain("the studio's reward margin");
      expect(readme).toContain('`gradient_accumulation_steps` in `DPO_KWARGS`');
      expect(readme).toContain('whetstone eval --objective dpo --dpo-beta 0.25');
      expect(readme).not.toMatch(/SFTTrainer|SFT_KWARGS|prompt masking/);
    });

    it('full fine-tuning: no PEFT config, a reference model only under FSDP, and LoRA dropout keeps dropout on', async () => {
      const full = await exported(dpoRun({ method: 'full' }));
      expect(full.settings.PEFT_CLASS).toBeNull();
      expect(full.call.keywords.ref_model).toBe('ref_model');
      expect(full.files['train.py']).toContain('    ref_model = load_model(args, bf16) if fsdp else None\n');
      expect(full.files['train.py']).toContain('        dpo_kwargs["precompute_ref_log_probs"] = False\n');
      expect(full.files['README.md']).toContain('the model as loaded, before its first update');
      expect(full.settings.DPO_KWARGS).toMatchObject({
        disable_dropout: true,
        precompute_ref_log_probs: true,
      });

      const dropout = await exported(dpoRun({ method: 'lora', dropout: 0.1 }));
      expect(dropout.settings.DPO_KWARGS).toMatchObject({ disable_dropout: false });
      expect(dropout.files['README.md']).toContain("LoRA's dropout stays on");
      const prefix = await exported(dpoRun({ method: 'prefix', numVirtualTokens: 4 }));
      expect(prefix.settings.PEFT_CLASS).toBe('PrefixTuningConfig');
      expect(prefix.settings.DPO_KWARGS).toMatchObject({ disable_dropout: true });
    });

    it("DPO's loss type goes to TRL's loss_type", async () => {
      const ipo = await exported(
        dpoRun({ method: 'lora', r: 2 }, { preference: { beta: 0.25, lossType: 'ipo' } }),
      );
      expect(ipo.settings.DPO_KWARGS).toEqual({ ...expectedDpo, loss_type: ['ipo'] });
    });

    it('QLoRA, LoRA+ and early stopping keep their pieces on DPOTrainer', async () => {
      const base = dpoRun({ method: 'dora', r: 2 }, { loraPlusLrRatio: 8, earlyStoppingPatience: 2 });
      const run: RunConfig = { ...base, model: { ...base.model, quantization: 'nf4' } };
      const { files, settings, call } = await exported(run, 'qwen2');
      expect(settings).toMatchObject({
        QUANTIZATION: 'nf4',
        LORAPLUS_LR_RATIO: 8,
        EARLY_STOPPING_PATIENCE: 2,
      });
      expect(settings.DPO_KWARGS).toEqual({
        ...expectedDpo,
        save_strategy: 'steps',
        save_steps: 11,
        save_total_limit: 1,
        load_best_model_at_end: true,
        metric_for_best_model: 'eval_loss',
        greater_is_better: false,
      });
      expect(call.trainer).toBe('LoraPlusDPOTrainer');
      expect(call.classes).toEqual({ LoraPlusDPOTrainer: ['DPOTrainer'] });
      expect(call.keywords.callbacks).toBe(
        '[EarlyStoppingCallback(early_stopping_patience=EARLY_STOPPING_PATIENCE)]',
      );
      expect(call.imports.transformers).toEqual([
        'AutoModelForCausalLM',
        'AutoTokenizer',
        'BitsAndBytesConfig',
        'EarlyStoppingCallback',
      ]);
      expect(files['train.py']).toContain('quantization_config=quantization_config');
      expect(files['train.py']).toContain("this process's GPU, which DPOConfig has picked");
      expect(files['requirements.txt']).toContain('bitsandbytes==');
      expect(files['README.md']).toContain('4-bit NF4 (QLoRA)');
      expect(files['README.md']).toContain('`create_loraplus_optimizer`');
      expect(files['README.md']).toContain('EARLY_STOPPING_PATIENCE');
    });

    it('conversational pairs: message-list rows and a chat template for a model without one', async () => {
      const conversations = Array.from({ length: 8 }, (_, i) => ({
        chosen: [
          { role: 'user', content: `q${i}` },
          { role: 'assistant', content: `a${i}` },
        ],
        rejected: [
          { role: 'user', content: `q${i}` },
          { role: 'assistant', content: `b${i}` },
        ],
      }));
      const run = parseRunConfig({
        model: { id: 'm' },
        method: { method: 'ia3' },
        training: { preference: {} },
        data: { file: 'c.jsonl' },
      });
      const files = await exportJob({
        run,
        model: tinyDecoder('llama'),
        dataset: { name: 'c.jsonl', bytes: jsonlBytes(conversations) },
      });
      const script = join(writeTemp(files), 'train.py');
      expect(pyCompile(script).status).toBe(0);
      const settings = pythonSettings(script);
      expect(settings.DATA).toEqual({
        train_file: 'dataset/train.jsonl',
        validation_file: null,
        conversational: true,
      });
      expect(typeof settings.FALLBACK_CHAT_TEMPLATE).toBe('string');
      expect(settings.DPO_KWARGS).toMatchObject({ beta: 0.1, eval_strategy: 'no' });
      expect(files).not.toHaveProperty('dataset/validation.jsonl');
      expect(rows(files['dataset/train.jsonl'])[0]).toEqual({
        prompt: [{ role: 'user', content: 'q0' }],
        chosen: [{ role: 'assistant', content: 'a0' }],
        rejected: [{ role: 'assistant', content: 'b0' }],
      });
      expect(files['README.md']).toContain(
        '(8 training and 0 validation pairs, conversational preference rows)',
      );
    });

    it('a validation file gives the validation pairs as they are', async () => {
      const run = parseRunConfig({
        model: { id: 'm' },
        method: { method: 'lora' },
        training: { preference: { beta: 0.5 } },
        data: { file: 'pairs.jsonl', validationFile: 'held.jsonl' },
      });
      const held = [{ prompt: 'P', chosen: ' c', rejected: ' r' }];
      const files = await exportJob({
        run,
        model: tinyDecoder('llama'),
        dataset: pairs,
        validation: { name: 'held.jsonl', bytes: jsonlBytes(held) },
      });
      expect(rows(files['dataset/train.jsonl'])).toEqual(pairRows);
      expect(rows(files['dataset/validation.jsonl'])).toEqual(held);
    });
  },
);

describe('DPO export refusals', () => {
  const tiny = tinyDecoder('llama');
  it('prompt tuning, by name, before the data is read', async () => {
    const run = dpoRun({ method: 'prompt', numVirtualTokens: 4 });
    const refusal = exportJob({ run, model: tiny, dataset: { name: 'x.jsonl', bytes: new Uint8Array() } });
    await expect(refusal).rejects.toThrow(ExportJobError);
    await expect(refusal).rejects.toThrow(/Prompt tuning cannot be exported as a DPO job.*prefix-tuning/s);
    // The same run as SFT exports.
    const { preference: _, ...sft } = run.training;
    await expect(
      exportJob({ run: { ...run, training: sft }, model: tiny, dataset: pairs }),
    ).resolves.toBeDefined();
  });

  it('data that is not preference pairs, and files mixing standard and conversational pairs', async () => {
    const run = dpoRun({ method: 'lora' });
    await expect(
      exportJob({
        run: { ...run, data: { ...run.data, file: 'chat.jsonl' } },
        model: tiny,
        dataset: { name: 'chat.jsonl', bytes: chatBytes },
      }),
    ).rejects.toThrow(/chat.jsonl was read as "chat" rows \(line 1\); a DPO run trains on preference pairs/);
    const mixed = jsonlBytes([
      ...pairRows.slice(0, 3),
      {
        prompt: [{ role: 'user', content: 'q' }],
        chosen: [{ role: 'assistant', content: 'a' }],
        rejected: [{ role: 'assistant', content: 'b' }],
      },
    ]);
    const noSplit = { ...run, data: { ...run.data, validationFraction: 0 } };
    await expect(
      exportJob({ run: noSplit, model: tiny, dataset: { name: 'pairs.jsonl', bytes: mixed } }),
    ).rejects.toThrow(
      /mixes conversational pairs \(message lists\) with standard ones \(strings\) \(line 4\)/,
    );
  });

  it('an SFT run on the same pairs still trains on the chosen responses', async () => {
    const { preference: _, ...sft } = dpoRun({ method: 'lora' }).training;
    const files = await exportJob({
      run: { ...dpoRun({ method: 'lora' }), training: sft },
      model: tiny,
      dataset: pairs,
    });
    expect(files['train.py']).toContain('SFTTrainer');
    expect(files['train.py']).not.toMatch(/DPO/);
    const loaded = await loadDataset('pairs.jsonl', pairs.bytes);
    expect(loaded.examples).toHaveLength(12);
    expect(rows(files['dataset/train.jsonl'])).toContainEqual({
      prompt: 'Question 0?',
      completion: ' Right 0.',
    });
  });
});
