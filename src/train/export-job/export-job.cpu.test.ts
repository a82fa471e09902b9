// The exported language-model job, checked through a real Python: train.py compiles for every method PEFT
// supports, and the values in its settings block are the run's; the adapter config PEFT will save imports
// back through parseAdapterConfig. Expected values are written out here from the run config (not taken
// from the exporter), so a drift in either fails. The accelerate configs are accelerate-configs.cpu.test.ts's.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load-dataset';
import type { DecoderConfig } from '../models/config';
import {
  type AdapterConfig,
  adapterConfigFields,
  adapterConfigJson,
  ia3AdapterConfig,
  loraAdapterConfig,
  parseAdapterConfig,
  prefixTuningAdapterConfig,
  promptTuningAdapterConfig,
} from '../peft/format/adapter-config';
import { ia3Fields, loraFields, prefixTuningFields, promptTuningFields } from '../peft/format/peft-fields';
import { type PythonJson, pythonJsonDumps } from '../peft/format/python-json';
import { ExportJobError, exportJob, jobFiles, parseRunConfig, type RunConfig } from './index';
import { pinnedPackages } from './requirements';
import {
  inspectScripts,
  noPythonReason,
  pyCompile,
  python3Available,
  pythonSettings,
  type ScriptReport,
  writeTemp,
} from './testing/python';
import { chatBytes, chatRun, exportedFolder, jsonlBytes, tinyDecoder } from './testing/run-fixtures';

/** The adapter config Whetstone writes for each method, built here straight from the PEFT builders. */
const peftCases: {
  name: string;
  method: Record<string, unknown>;
  className: string;
  expected: (m: DecoderConfig) => AdapterConfig;
  defaults: typeof loraFields;
}[] = [
  {
    name: 'LoRA',
    method: { method: 'lora', r: 6, alpha: 12, dropout: 0.05, targetModules: ['v_proj', 'c_proj'] },
    className: 'LoraConfig',
    // v_proj selects on Llama, c_proj (attention and MLP output) on GPT-2.
    expected: (m) =>
      loraAdapterConfig(m, { r: 6, alpha: 12, dropout: 0.05, targetModules: ['v_proj', 'c_proj'] }),
    defaults: loraFields,
  },
  {
    name: 'rsLoRA on all linear layers',
    method: { method: 'lora', r: 4, alpha: 2.5, useRslora: true, targetModules: 'all-linear' },
    className: 'LoraConfig',
    expected: (m) => loraAdapterConfig(m, { r: 4, alpha: 2.5, useRslora: true, targetModules: 'all-linear' }),
    defaults: loraFields,
  },
  {
    name: 'DoRA',
    method: { method: 'dora', r: 8, alpha: 16 },
    className: 'LoraConfig',
    expected: (m) => loraAdapterConfig(m, { r: 8, alpha: 16, useDora: true }),
    defaults: loraFields,
  },
  {
    name: 'IA3',
    method: { method: 'ia3' },
    className: 'IA3Config',
    expected: (m) => ia3AdapterConfig(m),
    defaults: ia3Fields,
  },
  {
    name: 'IA3 on all linear layers',
    method: { method: 'ia3', targetModules: 'all-linear' },
    className: 'IA3Config',
    expected: (m) => ia3AdapterConfig(m, { targetModules: 'all-linear' }),
    defaults: ia3Fields,
  },
  {
    name: 'prompt tuning',
    method: { method: 'prompt', numVirtualTokens: 13 },
    className: 'PromptTuningConfig',
    expected: (m) => promptTuningAdapterConfig(m, { numVirtualTokens: 13 }),
    defaults: promptTuningFields,
  },
  {
    name: 'prefix tuning',
    method: { method: 'prefix', numVirtualTokens: 9 },
    className: 'PrefixTuningConfig',
    expected: (m) => prefixTuningAdapterConfig(m, { numVirtualTokens: 9 }),
    defaults: prefixTuningFields,
  },
  {
    name: 'prefix tuning with a projection',
    method: { method: 'prefix', numVirtualTokens: 5, prefixProjection: true, encoderHiddenSize: 24 },
    className: 'PrefixTuningConfig',
    expected: (m) =>
      prefixTuningAdapterConfig(m, { numVirtualTokens: 5, prefixProjection: true, encoderHiddenSize: 24 }),
    defaults: prefixTuningFields,
  },
];

/** What SFT_KWARGS must hold for `chatTraining` (chat rows, packing, a validation split). */
const expectedSft = {
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
  packing: true,
  packing_strategy: 'wrapped',
  completion_only_loss: false,
  seed: 1234,
  data_seed: 1234,
  train_sampling_strategy: 'sequential',
  gradient_checkpointing: true,
  eval_strategy: 'steps',
  eval_steps: 11,
  logging_steps: 1,
};

describe.skipIf(!python3Available)(
  `export-job: train.py through python3 (skipped only if ${noPythonReason})`,
  () => {
    // Every method on both families is exported first and read by one Python process (py_compile, the
    // settings, PEFT's dump of both configs): a Python start-up per check made this file slow.
    const cases = (['llama', 'gpt2'] as const).flatMap((family) => peftCases.map((c) => ({ family, c })));
    const reports = new Map<string, { run: RunConfig; model: DecoderConfig; report: ScriptReport }>();
    /** PEFT's defaults + what PEFT fills in itself, with the peft_version PEFT records. */
    const filledByPeft = (
      c: (typeof peftCases)[number],
      expected: AdapterConfig,
      peftVersion?: PythonJson,
    ) => {
      const fields = adapterConfigFields(expected);
      return {
        ...c.defaults,
        auto_mapping: null,
        inference_mode: true,
        peft_type: fields.peft_type ?? null,
        peft_version: peftVersion ?? null,
      };
    };
    const expectedConfig = (c: (typeof peftCases)[number], model: DecoderConfig, run: RunConfig) => ({
      ...c.expected(model),
      baseModelNameOrPath: run.model.id,
    });

    beforeAll(async () => {
      const jobs = await Promise.all(
        cases.map(async ({ family, c }) => {
          const model = tinyDecoder(family);
          const run = chatRun({ ...c.method });
          const { dir } = await exportedFolder(run, model);
          const expected = expectedConfig(c, model, run);
          const peftDefaults = [
            pythonJsonDumps(filledByPeft(c, expected, adapterConfigFields(expected).peft_version)),
            // What the pinned PEFT saves after training (its own version recorded).
            pythonJsonDumps(filledByPeft(c, expected, pinnedPackages.peft)),
          ];
          return { key: `${c.name}/${family}`, run, model, path: join(dir, 'train.py'), peftDefaults };
        }),
      );
      const inspected = inspectScripts(jobs);
      jobs.forEach((job, i) => {
        reports.set(job.key, { run: job.run, model: job.model, report: inspected[i] as ScriptReport });
      });
    });

    for (const { family, c } of cases) {
      it(`${c.name} on ${family}: compiles; its PEFT config is Whetstone's, and PEFT's save imports back`, () => {
        const entry = reports.get(`${c.name}/${family}`);
        if (!entry) throw new Error(`no report for ${c.name} on ${family}`);
        const { run, model, report } = entry;
        expect(report.compileError).toBe('');
        expect(report.compileStatus).toBe(0);

        const settings = report.settings;
        expect(settings.MODEL_ID).toBe('HuggingFaceTB/SmolLM2-135M-Instruct');
        expect(settings.PEFT_CLASS).toBe(c.className);
        expect(settings.SFT_KWARGS).toEqual(expectedSft);
        expect(settings.DATA).toEqual({
          train_file: 'dataset/train.jsonl',
          validation_file: 'dataset/validation.jsonl',
          shape: 'conversation',
          mask_prompt: true,
          packing: true,
        });

        // PEFT's defaults + train.py's kwargs + what PEFT fills in itself, dumped as PEFT dumps them,
        // must be adapter_config.json byte for byte (floats keep their ".0": typed as PEFT types them).
        const expected = expectedConfig(c, model, run);
        expect(report.peftJsons[0]).toBe(adapterConfigJson(expected));
        // What the pinned PEFT saves after training (its own version recorded) imports back as that config.
        expect(parseAdapterConfig(report.peftJsons[1] ?? '')).toEqual({
          ...expected,
          peftVersion: pinnedPackages.peft,
        });
      });
    }

    it('full fine-tuning: compiles, with no PEFT config', async () => {
      const { dir } = await exportedFolder(chatRun({ method: 'full' }), tinyDecoder('qwen2'));
      expect(pyCompile(join(dir, 'train.py')).status).toBe(0);
      const settings = pythonSettings(join(dir, 'train.py'));
      expect(settings.PEFT_CLASS).toBeNull();
      expect(settings.PEFT_KWARGS).toBeNull();
      expect(settings.METHOD).toBe('full');
    });

    it('loads soft-capped Gemma 2 with eager attention, which applies the cap; others by default', async () => {
      const run = chatRun({ method: 'lora', r: 2, alpha: 4 });
      const gemma2 = await exportedFolder(run, tinyDecoder('gemma2'));
      expect(pyCompile(join(gemma2.dir, 'train.py')).status).toBe(0);
      expect(pythonSettings(join(gemma2.dir, 'train.py')).ATTN_IMPLEMENTATION).toBe('eager');
      const gemma3 = await exportedFolder(run, tinyDecoder('gemma3'));
      expect(pythonSettings(join(gemma3.dir, 'train.py')).ATTN_IMPLEMENTATION).toBeNull();
    });

    it('maps SGD, a constant schedule, epochs and shuffling as HF names them', async () => {
      const run = chatRun(
        { method: 'lora', r: 2, alpha: 4 },
        { optimizer: 'sgd', schedule: 'constant', steps: undefined, epochs: 3, shuffle: true, evalEvery: 0 },
      );
      const { dir } = await exportedFolder(run, tinyDecoder('llama'));
      const sft = pythonSettings(join(dir, 'train.py')).SFT_KWARGS as Record<string, unknown>;
      expect(sft.optim).toBe('sgd');
      // HF's plain "constant" ignores warmup; Whetstone's constant schedule warms up first.
      expect(sft.lr_scheduler_type).toBe('constant_with_warmup');
      expect(sft.num_train_epochs).toBe(3);
      expect(sft).not.toHaveProperty('max_steps');
      expect(sft.train_sampling_strategy).toBe('random');
      expect(sft.eval_strategy).toBe('no');
    });

    it('prompt-completion data masks the prompt through completion_only_loss, as the run says', async () => {
      const bytes = jsonlBytes(
        Array.from({ length: 6 }, (_, i) => ({ prompt: `p${i}`, completion: ` c${i}` })),
      );
      for (const maskPrompt of [true, false]) {
        const run = parseRunConfig({
          model: { id: 'gpt2' },
          method: { method: 'lora' },
          data: { file: 'pc.jsonl', maskPrompt },
        });
        const files = await exportJob({
          run,
          model: tinyDecoder('gpt2'),
          dataset: { name: 'pc.jsonl', bytes },
        });
        const dir = writeTemp(files);
        const settings = pythonSettings(join(dir, 'train.py'));
        expect((settings.SFT_KWARGS as Record<string, unknown>).completion_only_loss).toBe(maskPrompt);
        expect((settings.DATA as Record<string, unknown>).shape).toBe('prompt-completion');
        expect((settings.DATA as Record<string, unknown>).validation_file).toBeNull();
      }
    });
  },
);

describe('export-job: what it writes and what it refuses', () => {
  it('writes every file, with pinned requirements', async () => {
    const { files } = await exportedFolder(chatRun({ method: 'lora' }), tinyDecoder('llama'));
    expect(Object.keys(files).sort()).toEqual([
      'README.md',
      'accelerate/deepspeed_zero2.yaml',
      'accelerate/deepspeed_zero3.yaml',
      'accelerate/fsdp.yaml',
      'accelerate/single_gpu.yaml',
      'dataset/train.jsonl',
      'dataset/validation.jsonl',
      'requirements.txt',
      'run-config.json',
      'train.py',
    ]);
    const pins = (files['requirements.txt'] ?? '').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(pins.every((l) => /^[a-z]+==\d+\.\d+\.\d+$/.test(l))).toBe(true);
    expect(pins.map((l) => l.split('==')[0]).sort()).toEqual(
      ['accelerate', 'datasets', 'deepspeed', 'peft', 'torch', 'transformers', 'trl'].sort(),
    );
    expect(pins).toContain(`trl==${pinnedPackages.trl}`);
    expect(parseRunConfig(JSON.parse(files['run-config.json'] ?? ''))).toEqual(chatRun({ method: 'lora' }));
    expect(files['README.md']).toContain('accelerate launch --config_file accelerate/deepspeed_zero3.yaml');
  });

  it('refuses bottleneck adapters, saying PEFT has none', async () => {
    const run = chatRun({ method: 'adapter', reductionFactor: 8 });
    await expect(
      exportJob({ run, model: tinyDecoder('llama'), dataset: { name: 'chat.jsonl', bytes: chatBytes } }),
    ).rejects.toThrow(ExportJobError);
    const loaded = await loadDataset('chat.jsonl', chatBytes);
    expect(() => jobFiles(run, tinyDecoder('llama'), loaded)).toThrow(
      /PEFT has no bottleneck adapter method/,
    );
  });

  it('asks for the validation file the run names', async () => {
    const run = parseRunConfig({
      model: { id: 'm' },
      method: { method: 'lora' },
      data: { file: 'chat.jsonl', validationFile: 'valid.jsonl' },
    });
    await expect(
      exportJob({ run, model: tinyDecoder('llama'), dataset: { name: 'chat.jsonl', bytes: chatBytes } }),
    ).rejects.toThrow(/valid\.jsonl/);
  });
});
