// An early-stopping run's job (training.earlyStoppingPatience): train.py holds EARLY_STOPPING_PATIENCE,
// SFT_KWARGS that evaluate and checkpoint together and load the best back (read by a real python3 through
// ast), and hands its SFTTrainer transformers' EarlyStoppingCallback; the README says so. A run without it
// gets the same files as before: the early-stopping ones, less exactly their early-stopping lines.
// Refused: classifier runs (by field name, as the engine refuses them), runs left with no validation
// example or no evaluations, and prefix tuning with a projection (PEFT cannot load its checkpoints back).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load-dataset';
import {
  classificationJobFiles,
  ExportJobError,
  exportClassificationJob,
  exportJob,
  jobFiles,
  parseRunConfig,
  type RunConfig,
  RunConfigError,
} from './index';
import { noPythonReason, pyCompile, python3Available, pythonSettings, runPython } from './testing/python';
import {
  chatBytes,
  chatRun,
  exportedFolder,
  jsonlBytes,
  labelledTextRows,
  tinyBertClassifier,
  tinyDecoder,
} from './testing/run-fixtures';

/** What transformers needs for EarlyStoppingCallback with load_best_model_at_end, at chatTraining's evalEvery 11. */
const expectedKwargs = {
  eval_strategy: 'steps',
  eval_steps: 11,
  save_strategy: 'steps',
  save_steps: 11,
  save_total_limit: 1,
  load_best_model_at_end: true,
  metric_for_best_model: 'eval_loss',
  greater_is_better: false,
};

/** The SFTTrainer call of main() and the names imported from transformers, read by ast. */
const trainerReader = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
call = next(n.value for n in ast.walk(main) if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "trainer")
imported = [a.name for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "transformers" for a in n.names]
print(json.dumps({"trainer": ast.unparse(call.func), "keywords": {k.arg: ast.unparse(k.value) for k in call.keywords}, "transformers": imported}))
`;

function trainerCall(script: string): {
  trainer: string;
  keywords: Record<string, string>;
  transformers: string[];
} {
  const run = runPython(['-c', trainerReader, script]);
  if (run.status !== 0) throw new Error(`reading the trainer of ${script} failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** The plain script from an early-stopping one: less its import, settings, SFT_KWARGS entries and lines. */
function withoutEarlyStopping(script: string): string {
  const kwargsLines = Object.keys(expectedKwargs)
    .filter((key) => !key.startsWith('eval_'))
    .map((key) => new RegExp(`\\n {4}"${key}": [^\\n]*,(?=\\n)`));
  let plain = script
    .replace(', EarlyStoppingCallback\n', '\n')
    .replace(/\n# Early stopping: [^\n]*\nEARLY_STOPPING_PATIENCE = \d+(?=\n)/, '')
    .replace(
      '\n        callbacks=[EarlyStoppingCallback(early_stopping_patience=EARLY_STOPPING_PATIENCE)],',
      '',
    )
    .replace(/\n {4}# load_best_model_at_end has put [^\n]*(\n {4}(if| {4})[^\n]*){4}(?=\n)/, '');
  for (const line of kwargsLines) plain = plain.replace(line, '');
  return plain;
}

const readmeSentence =
  '\nAs in the browser run, it may stop sooner: it evaluates every 11 steps, stops after 3 evaluations in a row\n' +
  "without a lower `eval_loss` (`EARLY_STOPPING_PATIENCE`), and ends on the best evaluation's weights, which\n" +
  "are what `output/final/` holds (transformers' `EarlyStoppingCallback` with `load_best_model_at_end`).";
const clusterNote =
  '\nWith early stopping, put `--output-dir` on storage every machine shares: under DeepSpeed each machine\n' +
  'reads the best checkpoint back at the end.';
const lossDifference =
  "\n- transformers' `eval_loss` is each evaluation batch's per-token mean, averaged over examples; Whetstone's\n" +
  '  is the mean over every validation token. When batches hold different numbers of trained tokens the two\n' +
  '  differ a little, and early stopping may keep a neighbouring evaluation.';

describe.skipIf(!python3Available)(
  `early-stopping jobs: train.py through python3 (skipped only if ${noPythonReason})`,
  () => {
    it('train.py hands SFTTrainer the callback, with SFT_KWARGS that load the best checkpoint back', async () => {
      const run = chatRun({ method: 'lora', r: 4, alpha: 8 }, { earlyStoppingPatience: 3 });
      const { files, dir } = await exportedFolder(run, tinyDecoder('llama'));
      const script = join(dir, 'train.py');
      expect(pyCompile(script)).toMatchObject({ status: 0, stderr: '' });
      const settings = pythonSettings(script);
      expect(settings.EARLY_STOPPING_PATIENCE).toBe(3);
      expect(settings.SFT_KWARGS).toMatchObject(expectedKwargs);
      expect(settings.DATA).toMatchObject({ validation_file: 'dataset/validation.jsonl' });
      const call = trainerCall(script);
      expect(call.trainer).toBe('SFTTrainer');
      expect(call.keywords.callbacks).toBe(
        '[EarlyStoppingCallback(early_stopping_patience=EARLY_STOPPING_PATIENCE)]',
      );
      expect(call.transformers).toEqual(['AutoModelForCausalLM', 'AutoTokenizer', 'EarlyStoppingCallback']);
      // The final save comes after train(), which has loaded the best checkpoint back.
      const text = files['train.py'] ?? '';
      expect(text.indexOf('    trainer.train()\n')).toBeLessThan(
        text.indexOf('    trainer.save_model(final)'),
      );
      expect(text).toContain('"best_step": state.best_global_step');

      // The same run without early stopping: the same script less exactly its early-stopping lines.
      const { earlyStoppingPatience: _, ...training } = run.training;
      const plain = (await exportedFolder({ ...run, training }, tinyDecoder('llama'))).files;
      const plainScript = plain['train.py'] ?? '';
      expect(plainScript).not.toMatch(/EarlyStopping|EARLY_STOPPING|load_best|save_total_limit|best_step/);
      expect(withoutEarlyStopping(text)).toBe(plainScript);
      expect(
        files['README.md']?.replace(readmeSentence, '').replace(clusterNote, '').replace(lossDifference, ''),
      ).toBe(plain['README.md']);
      expect(plain['README.md']).not.toMatch(/early stopping|EarlyStopping|eval_loss/i);
      for (const name of Object.keys(plain).filter((n) => n !== 'train.py' && n !== 'README.md'))
        if (name !== 'run-config.json') expect(files[name], name).toBe(plain[name]);
      expect(parseRunConfig(JSON.parse(files['run-config.json'] ?? ''))).toEqual(run);
    });

    it('QLoRA with LoRA+ and SGD keeps both, and patience 1 reads as one evaluation', async () => {
      const base = chatRun(
        { method: 'dora', r: 2 },
        { optimizer: 'sgd', loraPlusLrRatio: 8, earlyStoppingPatience: 1, evalEvery: 4 },
      );
      const run: RunConfig = { ...base, model: { ...base.model, quantization: 'nf4' } };
      const { files, dir } = await exportedFolder(run, tinyDecoder('qwen2'));
      const script = join(dir, 'train.py');
      expect(pyCompile(script)).toMatchObject({ status: 0, stderr: '' });
      expect(pythonSettings(script)).toMatchObject({
        EARLY_STOPPING_PATIENCE: 1,
        LORAPLUS_LR_RATIO: 8,
        QUANTIZATION: 'nf4',
        SFT_KWARGS: { ...expectedKwargs, eval_steps: 4, save_steps: 4, optim: 'sgd' },
      });
      const call = trainerCall(script);
      expect(call.trainer).toBe('LoraPlusSFTTrainer');
      expect(call.keywords.callbacks).toContain('EarlyStoppingCallback(');
      expect(call.transformers).toEqual([
        'AutoModelForCausalLM',
        'AutoTokenizer',
        'BitsAndBytesConfig',
        'EarlyStoppingCallback',
      ]);
      expect(files['README.md']).toContain(
        'evaluates every 4 steps, stops after an evaluation\nwithout a lower',
      );
    });

    it('every method PEFT loads back compiles with the callback; full fine-tuning too', async () => {
      for (const method of [
        { method: 'ia3' },
        { method: 'prompt', numVirtualTokens: 4 },
        { method: 'prefix', numVirtualTokens: 4 },
        { method: 'full' },
      ]) {
        const run = chatRun(method, { earlyStoppingPatience: 2 });
        const script = join((await exportedFolder(run, tinyDecoder('gpt2'))).dir, 'train.py');
        expect(pyCompile(script), method.method).toMatchObject({ status: 0, stderr: '' });
        expect(pythonSettings(script).SFT_KWARGS, method.method).toMatchObject(expectedKwargs);
        expect(trainerCall(script).keywords.callbacks, method.method).toContain('EarlyStoppingCallback(');
      }
    });
  },
);

const bert = tinyBertClassifier();
const textRows = labelledTextRows;

describe('early-stopping jobs: refusals', () => {
  it('a classifier run refuses early stopping by field name, as the classifier engine does', async () => {
    const run = parseRunConfig({
      model: { id: 'google-bert/bert-base-uncased' },
      method: { method: 'lora' },
      training: { evalEvery: 2, earlyStoppingPatience: 2 },
      data: { file: 'texts.jsonl', validationFraction: 0.25 },
    });
    const refusal = exportClassificationJob({ run, model: bert, dataset: textRows });
    await expect(refusal).rejects.toThrow(RunConfigError);
    await expect(refusal).rejects.toMatchObject({ field: 'training.earlyStoppingPatience' });
    await expect(refusal).rejects.toThrow(/early stopping is for language-model runs/);
    const texts = await loadDataset(textRows.name, textRows.bytes);
    expect(() => classificationJobFiles(run, bert, texts)).toThrow(
      /"training\.earlyStoppingPatience": early stopping is for language-model runs; a classifier run scores every epoch/,
    );
  });

  it('refuses a run with no validation example or no evaluations, also built in code', async () => {
    const loaded = await loadDataset('chat.jsonl', chatBytes);
    const model = tinyDecoder('llama');
    const run = chatRun({ method: 'lora' }, { earlyStoppingPatience: 2 });
    const noSplit = { ...run, data: { ...run.data, validationFraction: 0 } };
    expect(() => jobFiles(noSplit, model, loaded)).toThrow(
      new ExportJobError(
        'Early stopping compares validation losses, and this run has no validation set: hold examples out ' +
          '(data.validationFraction) or give a data.validationFile.',
      ),
    );
    // One example: the seeded split keeps it for training, so nothing is left to validate on.
    const one = await loadDataset('one.jsonl', jsonlBytes([{ text: 'only row' }]));
    expect(() => jobFiles(run, model, one)).toThrow(/no validation set/);
    const noEvaluations = { ...run, training: { ...run.training, evalEvery: 0 } };
    await expect(
      exportJob({ run: noEvaluations, model, dataset: { name: 'chat.jsonl', bytes: chatBytes } }),
    ).rejects.toThrow(/set how often to evaluate \(training\.evalEvery\)/);
    const zero = { ...run, training: { ...run.training, earlyStoppingPatience: 0 } };
    expect(() => jobFiles(zero, model, loaded)).toThrow(/whole number of at least 1, got 0/);
  });

  it('refuses prefix tuning with a projection, which PEFT cannot load back as the best checkpoint', async () => {
    const run = chatRun(
      { method: 'prefix', numVirtualTokens: 4, prefixProjection: true },
      { earlyStoppingPatience: 2 },
    );
    await expect(
      exportJob({ run, model: tinyDecoder('llama'), dataset: { name: 'chat.jsonl', bytes: chatBytes } }),
    ).rejects.toThrow(/projected prefix, not the projection that trains.*without prefixProjection/);
    const { earlyStoppingPatience: _, ...training } = run.training;
    await expect(exportedFolder({ ...run, training }, tinyDecoder('llama'))).resolves.toBeDefined();
  });
});
