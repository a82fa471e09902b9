// The exported classification job, checked through a real Python (one process for every script):
// train.py compiles for each method PEFT has, its settings are the run's (expected values written out
// here, not taken from the exporter), PEFT's dump of its config is the SEQ_CLS config Whetstone's
// classifier writes and imports back; the dataset folder holds the very rows, split and class ids of
// the browser's classifier run; and train.py's compute_metrics agrees with metrics/classification.ts.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeClassificationSplit, readClassificationRows } from '../classify/classifier-run-data';
import { PairEncoder } from '../classify/pair-encoder';
import { tinyEncoderConfigJson } from '../fixtures/tiny-encoders';
import { tinyWordPiece } from '../fixtures/tiny-wordpiece';
import { classificationMetrics } from '../metrics/classification';
import { type EncoderConfig, type EncoderFamily, parseEncoderConfig } from '../models/bert-config';
import {
  type AdapterConfig,
  adapterConfigFields,
  adapterConfigJson,
  parseAdapterConfig,
} from '../peft/format/adapter-config';
import {
  ia3Fields,
  loraFields,
  peftFormatVersion,
  prefixTuningFields,
  promptTuningFields,
} from '../peft/format/peft-fields';
import { pythonJsonDumps } from '../peft/format/python-json';
import { seededRandom } from '../seeded-random';
import { ExportJobError, exportClassificationJob, parseRunConfig, type RunConfig } from './index';
import {
  inspectScripts,
  noPythonReason,
  python3Available,
  runPython,
  type ScriptReport,
  writeTemp,
} from './testing/python';
import { jsonlBytes } from './testing/run-fixtures';

const wordPiece = tinyWordPiece();
const encoderConfig = (family: EncoderFamily): EncoderConfig =>
  parseEncoderConfig(
    tinyEncoderConfigJson({ family }, wordPiece.vocabSize, family === 'roberta' ? 1 : wordPiece.padId),
  );

// Sentence pairs with string labels: their class ids follow the sorted set ["different", "same"].
const words = ['the cat', 'a dog', 'the mat', 'cats sat', 'a dog is on the mat', 'the dog sat'];
const pairRows = Array.from({ length: 19 }, (_, i) => ({
  sentence1: `${words[i % words.length]} ${i}`,
  sentence2: words[(i * 5) % words.length],
  label: i % 3 === 0 ? 'same' : 'different',
}));
const pairFile = { name: 'pairs.jsonl', bytes: jsonlBytes(pairRows) };

/** Distinct, non-default values, so a setting that is dropped or swapped shows. */
const training = {
  lr: 3.7e-4,
  betas: [0.85, 0.98],
  eps: 1e-7,
  weightDecay: 0.03,
  maxGradNorm: 0.7,
  schedule: 'linear',
  warmupSteps: 7,
  steps: 123,
  batchSize: 3,
  gradAccum: 2,
  seqLen: 40,
  seed: 4321,
  shuffle: true,
  evalEvery: 11,
};

const runWith = (method: Record<string, unknown>, seqLen = training.seqLen): RunConfig =>
  parseRunConfig({
    model: { id: 'google-bert/bert-base-uncased' },
    method,
    training: { ...training, seqLen },
    data: { file: 'pairs.jsonl', validationFraction: 0.25 },
  });

const expectedTraining = {
  learning_rate: 3.7e-4,
  optim: 'adamw_torch',
  adam_beta1: 0.85,
  adam_beta2: 0.98,
  adam_epsilon: 1e-7,
  weight_decay: 0.03,
  max_grad_norm: 0.7,
  lr_scheduler_type: 'linear',
  warmup_steps: 7,
  max_steps: 123,
  per_device_train_batch_size: 3,
  per_device_eval_batch_size: 3,
  gradient_accumulation_steps: 2,
  seed: 4321,
  data_seed: 4321,
  train_sampling_strategy: 'random',
  gradient_checkpointing: false,
  eval_strategy: 'steps',
  eval_steps: 11,
  logging_steps: 1,
};

const seqCls = {
  taskType: 'SEQ_CLS' as const,
  baseModelNameOrPath: 'google-bert/bert-base-uncased',
  revision: null,
  peftVersion: peftFormatVersion,
  modulesToSave: ['classifier', 'score'],
};

/** The SEQ_CLS config Whetstone's classifier writes for each case, written out by hand. */
const cases: {
  name: string;
  family: EncoderFamily;
  method: Record<string, unknown>;
  className: string | null;
  expected?: AdapterConfig;
  defaults?: typeof loraFields;
}[] = [
  {
    name: 'LoRA with default targets',
    family: 'bert',
    method: { method: 'lora', r: 6, alpha: 12, dropout: 0.1 },
    className: 'LoraConfig',
    expected: {
      peftType: 'LORA',
      ...seqCls,
      r: 6,
      loraAlpha: 12,
      loraDropout: 0.1,
      targetModules: ['query', 'value'],
      fanInFanOut: false,
      useRslora: false,
      useDora: false,
    },
    defaults: loraFields,
  },
  {
    name: 'rsLoRA DoRA on DistilBERT',
    family: 'distilbert',
    method: { method: 'dora', r: 4, alpha: 8, useRslora: true },
    className: 'LoraConfig',
    expected: {
      peftType: 'LORA',
      ...seqCls,
      r: 4,
      loraAlpha: 8,
      loraDropout: 0,
      targetModules: ['q_lin', 'v_lin'],
      fanInFanOut: false,
      useRslora: true,
      useDora: true,
    },
    defaults: loraFields,
  },
  {
    name: 'IA3',
    family: 'roberta',
    method: { method: 'ia3' },
    className: 'IA3Config',
    expected: {
      peftType: 'IA3',
      ...seqCls,
      targetModules: ['key', 'output.dense', 'value'],
      feedforwardModules: ['output.dense'],
      fanInFanOut: false,
    },
    defaults: ia3Fields,
  },
  {
    name: 'prompt tuning',
    family: 'distilbert',
    method: { method: 'prompt', numVirtualTokens: 13 },
    className: 'PromptTuningConfig',
    expected: {
      peftType: 'PROMPT_TUNING',
      ...seqCls,
      numVirtualTokens: 13,
      tokenDim: 32,
      numTransformerSubmodules: 1,
      numAttentionHeads: 4,
      numLayers: 2,
      promptTuningInit: 'RANDOM',
      promptTuningInitText: null,
      tokenizerNameOrPath: null,
    },
    defaults: promptTuningFields,
  },
  {
    name: 'prefix tuning with a projection',
    family: 'bert',
    method: { method: 'prefix', numVirtualTokens: 5, prefixProjection: true, encoderHiddenSize: 24 },
    className: 'PrefixTuningConfig',
    expected: {
      peftType: 'PREFIX_TUNING',
      ...seqCls,
      numVirtualTokens: 5,
      tokenDim: 32,
      numTransformerSubmodules: 1,
      numAttentionHeads: 4,
      numLayers: 2,
      encoderHiddenSize: 24,
      prefixProjection: true,
    },
    defaults: prefixTuningFields,
  },
  { name: 'full fine-tuning', family: 'roberta', method: { method: 'full' }, className: null },
];

/** PEFT's defaults and the bookkeeping PEFT fills in itself, SEQ_CLS's modules_to_save included. */
const filledByPeft = (c: (typeof cases)[number]) => {
  const fields = adapterConfigFields(c.expected as AdapterConfig);
  return pythonJsonDumps({
    ...c.defaults,
    auto_mapping: null,
    inference_mode: true,
    modules_to_save: ['classifier', 'score'],
    peft_type: fields.peft_type ?? null,
    peft_version: fields.peft_version ?? null,
  });
};

describe.skipIf(!python3Available)(
  `export classification job: train.py through python3 (skipped only if ${noPythonReason})`,
  () => {
    const reports = new Map<string, { report: ScriptReport; files: Record<string, string> }>();
    beforeAll(async () => {
      const jobs = await Promise.all(
        cases.map(async (c) => {
          const files = await exportClassificationJob({
            run: runWith(c.method),
            model: encoderConfig(c.family),
            dataset: pairFile,
          });
          const dir = writeTemp(files);
          return { c, files, path: join(dir, 'train.py'), peftDefaults: c.expected ? [filledByPeft(c)] : [] };
        }),
      );
      const inspected = inspectScripts(jobs.map(({ path, peftDefaults }) => ({ path, peftDefaults })));
      jobs.forEach((job, i) => {
        reports.set(job.c.name, { report: inspected[i] as ScriptReport, files: job.files });
      });
    });

    for (const c of cases) {
      it(`${c.name} on ${c.family}: compiles, with the run's settings and Whetstone's SEQ_CLS config`, () => {
        const entry = reports.get(c.name);
        if (!entry) throw new Error(`no report for ${c.name}`);
        const { report, files } = entry;
        expect(report.compileError).toBe('');
        const s = report.settings;
        expect(s.MODEL_ID).toBe('google-bert/bert-base-uncased');
        expect(s.PEFT_CLASS).toBe(c.className);
        expect(s.TRAINING_KWARGS).toEqual(expectedTraining);
        expect(s.LABELS).toEqual(['different', 'same']);
        // 19 rows, 0.25 held out: ceil(4.75) = 5 validate. The tiny encoders hold 64 positions
        // (RoBERTa 66, less padding_idx + 1), so the run's 40 tokens fit.
        expect(s.DATA).toEqual({
          train_file: 'dataset/train.jsonl',
          validation_file: 'dataset/validation.jsonl',
          pairs: true,
          max_length: 40,
        });
        expect(files['dataset/validation.jsonl']?.trim().split('\n')).toHaveLength(5);
        expect(files['requirements.txt']).not.toContain('trl');
        if (!c.expected) {
          expect(s.PEFT_KWARGS).toBeNull();
          expect(files['train.py']).not.toContain('get_peft_model');
          return;
        }
        // PEFT's defaults + train.py's kwargs + PEFT's bookkeeping = adapter_config.json byte for byte,
        // and the studio's adapter parser reads it as the SEQ_CLS config.
        expect(report.peftJsons[0]).toBe(adapterConfigJson(c.expected));
        expect(parseAdapterConfig(report.peftJsons[0] ?? '')).toEqual(c.expected);
      });
    }

    it('train.py computes accuracy and F1 (binary for 2 classes, macro for 3) as the studio does', () => {
      const script = reports.get('full fine-tuning')?.files['train.py'] ?? '';
      const random = seededRandom(99);
      const cases = [2, 3].map((K) => {
        const labels = Array.from({ length: 23 }, () => Math.floor(random() * K));
        // Class K-1 is never predicted in the 3-class case: its F1 must be 0, not NaN.
        const logits = labels.map(() =>
          Array.from({ length: K }, (_, k) => (k === K - 1 && K === 3 ? -9 : random())),
        );
        return { K, labels, logits };
      });
      const run = runPython(
        [
          '-c',
          `
import ast, json, sys
import numpy as np
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
wanted = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("f1_scores", "compute_metrics")]
code = compile(ast.Module(body=wanted, type_ignores=[]), "train.py", "exec")
out = []
for case in json.loads(sys.stdin.read()):
    scope = {"np": np, "LABELS": [str(k) for k in range(case["K"])]}
    exec(code, scope)
    out.append(scope["compute_metrics"]((np.array(case["logits"]), np.array(case["labels"]))))
print(json.dumps(out))
`,
          join(writeTemp({ 'train.py': script }), 'train.py'),
        ],
        JSON.stringify(cases),
      );
      expect(run.stderr).toBe('');
      const got = JSON.parse(run.stdout) as { accuracy: number; f1: number }[];
      cases.forEach(({ K, labels, logits }, i) => {
        const predicted = logits.map((row) => row.indexOf(Math.max(...row)));
        const want = classificationMetrics(labels, predicted, K);
        expect(got[i]?.accuracy).toBeCloseTo(want.accuracy, 12);
        expect(got[i]?.f1).toBeCloseTo(want.f1, 12);
      });
    });
  },
);

describe('export classification job: the browser run’s rows and split', () => {
  it('train.jsonl and validation.jsonl are the classifier run’s seeded split, with its class ids', async () => {
    const run = runWith({ method: 'lora', r: 4, alpha: 8 }, 12);
    const files = await exportClassificationJob({ run, model: encoderConfig('bert'), dataset: pairFile });
    const encoder = new PairEncoder(wordPiece.tokenizerJson, wordPiece.tokenizerConfig);
    // What the browser's classifier run trains and validates on (classifier-run.ts's calls).
    const rows = await readClassificationRows({
      train: run.training,
      data: {
        file: { blob: new Blob([pairFile.bytes]), fileName: pairFile.name, skipBadRows: false },
        validationFraction: 0.25,
      },
    });
    const browser = encodeClassificationSplit(rows, encoder, { maxLength: 12, seed: run.training.seed });
    // The job's rows through the same encoder, labels through train.py's LABELS (the sorted set).
    const labels = ['different', 'same'];
    const encoded = (text: string | undefined) =>
      (text ?? '')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { sentence1: string; sentence2: string; label: string })
        .map((r) => ({ ...encoder.encode(r.sentence1, r.sentence2, 12), label: labels.indexOf(r.label) }));
    expect(browser.validation).toHaveLength(5);
    expect(encoded(files['dataset/train.jsonl'])).toEqual(browser.train);
    expect(encoded(files['dataset/validation.jsonl'])).toEqual(browser.validation);
    expect(browser.labelSet).toEqual(labels);
  });

  it('refuses bottleneck adapters and prefix tuning on DistilBERT, saying why', async () => {
    const refused = (method: Record<string, unknown>, family: EncoderFamily) =>
      exportClassificationJob({ run: runWith(method), model: encoderConfig(family), dataset: pairFile });
    await expect(refused({ method: 'adapter', reductionFactor: 8 }, 'bert')).rejects.toThrow(
      new ExportJobError(
        'Bottleneck adapters (method "adapter") cannot be exported as a transformers + PEFT job: PEFT has ' +
          'no bottleneck adapter method. Export a LoRA, DoRA, IA3, prompt- or prefix-tuning or full ' +
          'fine-tuning classifier instead, or keep training bottleneck adapters in Whetstone.',
      ),
    );
    await expect(refused({ method: 'prefix', numVirtualTokens: 4 }, 'distilbert')).rejects.toThrow(
      /DistilBERT takes no past key\/values/,
    );
  });

  it('refuses a quantized base: encoders load in f32', async () => {
    const run = runWith({ method: 'lora' });
    const quantized = { ...run, model: { ...run.model, quantization: 'nf4' as const } };
    const refusal = exportClassificationJob({
      run: quantized,
      model: encoderConfig('bert'),
      dataset: pairFile,
    });
    await expect(refusal).rejects.toThrow(ExportJobError);
    await expect(refusal).rejects.toThrow(
      /"nf4" applies to decoder language models; encoder classifiers load in f32/,
    );
  });
});
