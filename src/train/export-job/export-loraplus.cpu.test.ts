// A LoRA+ run's jobs (training.loraPlusLrRatio): train.py and the classification script hold
// LORAPLUS_LR_RATIO in their settings and train with a Trainer subclass whose create_optimizer builds
// PEFT's create_loraplus_optimizer; the README says so. A real python3 reads the scripts back (ast), and
// runs the subclass's create_optimizer against stand-ins for torch, PEFT and the Trainer (torch is not
// installed here): AdamW with betas and eps or SGD per "optim", the ratio and the run's weight decay, made
// once (DeepSpeed calls it first), and refused on flattened parameters. A run without LoRA+ gets the same
// script as before: the LoRA+ one, less exactly its LoRA+ lines.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load-dataset';
import {
  classificationJobFiles,
  ExportJobError,
  exportClassificationJob,
  jobFiles,
  parseRunConfig,
  type RunConfig,
} from './index';
import {
  noPythonReason,
  pyCompile,
  python3Available,
  pythonSettings,
  runPython,
  writeTemp,
} from './testing/python';
import {
  chatBytes,
  chatRun,
  exportedFolder,
  labelledTextRows,
  tinyBertClassifier,
  tinyDecoder,
} from './testing/run-fixtures';

const withLoraPlus = (run: RunConfig, ratio: number): RunConfig => ({
  ...run,
  training: { ...run.training, loraPlusLrRatio: ratio },
});

const bert = tinyBertClassifier();
const textRows = labelledTextRows;
const classifierRun = (method: string, training: Record<string, unknown> = {}) =>
  parseRunConfig({
    model: { id: 'google-bert/bert-base-uncased' },
    method: { method },
    training: { lr: 3e-4, weightDecay: 0.02, ...training },
    data: { file: 'texts.jsonl', validationFraction: 0.25 },
  });

/**
 * Runs the LoRA+ class of a train.py (found by ast, compiled alone) against stand-ins: torch.optim's
 * classes as names, create_loraplus_optimizer recording its arguments, the Trainer base as a plain class,
 * args.optim as transformers' OptimizerNames (a str Enum). Prints what each case did, as JSON.
 */
const subclassRunner = `
import ast, enum, json, sys, types

tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name.startswith("LoraPlus"))
ratio = next(ast.literal_eval(n.value) for n in tree.body
             if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "LORAPLUS_LR_RATIO")
calls = []

def create_loraplus_optimizer(model, optimizer_cls, **kwargs):
    calls.append(dict(kwargs, model=model.label, optimizer_cls=optimizer_cls))
    return f"optimizer {len(calls)}"

namespace = {
    "torch": types.SimpleNamespace(optim=types.SimpleNamespace(AdamW="AdamW", SGD="SGD")),
    "create_loraplus_optimizer": create_loraplus_optimizer,
    "LORAPLUS_LR_RATIO": ratio,
    node.bases[0].id: type(node.bases[0].id, (), {}),
}
exec(compile(ast.Module(body=[node], type_ignores=[]), "train.py", "exec"), namespace)
subclass = namespace[node.name]

class OptimizerNames(str, enum.Enum):
    ADAMW_TORCH = "adamw_torch"
    SGD = "sgd"
    ADAFACTOR = "adafactor"

class Model:
    def __init__(self, label, ndims):
        self.label = label
        self.params = {name: types.SimpleNamespace(ndim=ndim, requires_grad=True) for name, ndim in ndims.items()}

    def named_parameters(self):
        return iter(self.params.items())

peft_model = {"q.lora_A.default.weight": 2, "q.lora_B.default.weight": 2, "q.lora_magnitude_vector.default.weight": 1}

def trainer(optim, model):
    t = subclass.__new__(subclass)
    t.optimizer, t.model = None, model
    t.args = types.SimpleNamespace(
        optim=OptimizerNames(optim), learning_rate=3e-4, adam_beta1=0.8, adam_beta2=0.95, adam_epsilon=1e-7,
        weight_decay=0.02,
    )
    return t

def attempt(f):
    try:
        return {"returned": f()}
    except SystemExit as stop:
        return {"exit": str(stop)}

report = {"name": node.name, "base": node.bases[0].id}
report["adamw"] = attempt(lambda: trainer("adamw_torch", Model("self.model", peft_model)).create_optimizer())
report["sgd"] = attempt(lambda: trainer("sgd", Model("self.model", peft_model)).create_optimizer())
twice = trainer("adamw_torch", Model("self.model", peft_model))
report["twice"] = [twice.create_optimizer(), twice.create_optimizer()]
report["passed_model"] = attempt(lambda: trainer("sgd", Model("self.model", peft_model)).create_optimizer(Model("passed", peft_model)))
report["flattened"] = attempt(lambda: trainer("adamw_torch", Model("fsdp1", {"q.lora_A.default.weight": 1, "q.lora_B.default.weight": 1})).create_optimizer())
report["flat_param"] = attempt(lambda: trainer("adamw_torch", Model("fsdp1", {"_fsdp_wrapped_module._flat_param": 1})).create_optimizer())
report["adafactor"] = attempt(lambda: trainer("adafactor", Model("self.model", peft_model)).create_optimizer())
report["calls"] = calls
print(json.dumps(report))
`;

interface SubclassReport {
  name: string;
  base: string;
  adamw: { returned?: string; exit?: string };
  sgd: { returned?: string; exit?: string };
  twice: string[];
  passed_model: { returned?: string; exit?: string };
  flattened: { returned?: string; exit?: string };
  flat_param: { returned?: string; exit?: string };
  adafactor: { returned?: string; exit?: string };
  calls: Record<string, unknown>[];
}

function runSubclass(script: string): SubclassReport {
  const run = runPython(['-c', subclassRunner, script]);
  if (run.status !== 0) throw new Error(`running the LoRA+ trainer of ${script} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as SubclassReport;
}

/** What every LoRA+ script's create_optimizer must do with the stand-ins (ratio as LORAPLUS_LR_RATIO). */
function expectLoraPlusOptimizer(report: SubclassReport, ratio: number): void {
  const common = { lr: 3e-4, loraplus_lr_ratio: ratio, loraplus_weight_decay: 0.02 };
  expect(report.adamw).toEqual({ returned: 'optimizer 1' });
  expect(report.sgd).toEqual({ returned: 'optimizer 2' });
  // Made once: DeepSpeed's deepspeed_init calls create_optimizer before the Trainer does.
  expect(report.twice).toEqual(['optimizer 3', 'optimizer 3']);
  expect(report.passed_model).toEqual({ returned: 'optimizer 4' });
  expect(report.calls).toEqual([
    { ...common, model: 'self.model', optimizer_cls: 'AdamW', betas: [0.8, 0.95], eps: 1e-7 },
    { ...common, model: 'self.model', optimizer_cls: 'SGD' },
    { ...common, model: 'self.model', optimizer_cls: 'AdamW', betas: [0.8, 0.95], eps: 1e-7 },
    { ...common, model: 'passed', optimizer_cls: 'SGD' },
  ]);
  for (const flat of [report.flattened, report.flat_param])
    expect(flat.exit).toMatch(/flattened parameters \(FSDP1 does\): use accelerate\/fsdp\.yaml \(FSDP2\)/);
  expect(report.adafactor.exit).toMatch(/set "optim" to "adamw_torch" or "sgd"/);
}

/** The plain script from a LoRA+ one: less its import, its two settings lines and its class, base trainer. */
function withoutLoraPlus(script: string, base: 'SFTTrainer' | 'Trainer'): string {
  const start = script.indexOf(`class LoraPlus${base}(`);
  const end = script.indexOf('def read_jsonl(path):');
  expect(start).toBeGreaterThan(0);
  return (script.slice(0, start) + script.slice(end))
    .replace('from peft.optimizers import create_loraplus_optimizer\n', '')
    .replace(
      /# LoRA\+: LoRA's B matrices and every trainable vector [^\n]*\nLORAPLUS_LR_RATIO = [^\n]*\n/,
      '',
    )
    .replace(`trainer = LoraPlus${base}(`, `trainer = ${base}(`);
}

describe.skipIf(!python3Available)(
  `LoRA+ jobs: the scripts through python3 (skipped only if ${noPythonReason})`,
  () => {
    it('train.py of a LoRA+ DoRA run builds PEFT’s LoRA+ optimizer in its SFTTrainer subclass', async () => {
      const plainRun = chatRun({ method: 'dora', r: 4, alpha: 8 });
      const { files, dir } = await exportedFolder(withLoraPlus(plainRun, 16), tinyDecoder('llama'));
      const script = join(dir, 'train.py');
      expect(pyCompile(script)).toMatchObject({ status: 0, stderr: '' });
      const settings = pythonSettings(script);
      expect(settings.LORAPLUS_LR_RATIO).toBe(16);
      expect(files['train.py']).toContain('LORAPLUS_LR_RATIO = 16.0\n');
      expect(settings.PEFT_CLASS).toBe('LoraConfig');
      expect((settings.SFT_KWARGS as Record<string, unknown>).optim).toBe('adamw_torch');

      const text = files['train.py'] ?? '';
      expect(text).toContain('from peft.optimizers import create_loraplus_optimizer\n');
      expect(text).toContain('class LoraPlusSFTTrainer(SFTTrainer):\n');
      expect(text).toContain('    trainer = LoraPlusSFTTrainer(\n');
      const report = runSubclass(script);
      expect(report).toMatchObject({ name: 'LoraPlusSFTTrainer', base: 'SFTTrainer' });
      expectLoraPlusOptimizer(report, 16);

      // The same run without LoRA+: the LoRA+ script less exactly its LoRA+ lines.
      const plain = (await exportedFolder(plainRun, tinyDecoder('llama'))).files['train.py'] ?? '';
      expect(plain).not.toMatch(/LoraPlus|loraplus|LORAPLUS/);
      expect(withoutLoraPlus(text, 'SFTTrainer')).toBe(plain);
    });

    it('a QLoRA LoRA+ run with SGD keeps its 4-bit base and compiles', async () => {
      const run = withLoraPlus(chatRun({ method: 'lora', r: 2, alpha: 4 }, { optimizer: 'sgd' }), 2.5);
      const { dir, files } = await exportedFolder(
        { ...run, model: { ...run.model, quantization: 'nf4' } },
        tinyDecoder('qwen2'),
      );
      const script = join(dir, 'train.py');
      expect(pyCompile(script)).toMatchObject({ status: 0, stderr: '' });
      expect(pythonSettings(script)).toMatchObject({ LORAPLUS_LR_RATIO: 2.5, QUANTIZATION: 'nf4' });
      expect(files['train.py']).toContain('quantization_config=quantization_config');
      expectLoraPlusOptimizer(runSubclass(script), 2.5);
    });

    it('the classification script trains with a LoRA+ Trainer subclass', async () => {
      const plainRun = classifierRun('lora');
      const files = await exportClassificationJob({
        run: withLoraPlus(plainRun, 4.5),
        model: bert,
        dataset: textRows,
      });
      const script = join(writeTemp(files), 'train.py');
      expect(pyCompile(script)).toMatchObject({ status: 0, stderr: '' });
      expect(pythonSettings(script).LORAPLUS_LR_RATIO).toBe(4.5);
      const text = files['train.py'] ?? '';
      expect(text).toContain('from peft.optimizers import create_loraplus_optimizer\n');
      expect(text).toContain('    trainer = LoraPlusTrainer(\n');
      const report = runSubclass(script);
      expect(report).toMatchObject({ name: 'LoraPlusTrainer', base: 'Trainer' });
      expectLoraPlusOptimizer(report, 4.5);

      const plain = await exportClassificationJob({ run: plainRun, model: bert, dataset: textRows });
      expect(plain['train.py']).not.toMatch(/LoraPlus|loraplus|LORAPLUS/);
      expect(withoutLoraPlus(text, 'Trainer')).toBe(plain['train.py']);
    });
  },
);

describe('LoRA+ jobs: README, run config and refusals', () => {
  it('the README names the optimizer and the ratio, and how decay differs; plain runs say nothing of it', async () => {
    const run = withLoraPlus(chatRun({ method: 'dora', r: 4 }), 16);
    const { files } = await exportedFolder(run, tinyDecoder('llama'));
    const readme = files['README.md'] ?? '';
    expect(readme).toContain(
      "The optimizer is LoRA+, as in the browser run: PEFT's `create_loraplus_optimizer` with\n" +
        "`loraplus_lr_ratio` 16 (`LORAPLUS_LR_RATIO`), so LoRA's B matrices and every trainable vector\n" +
        'learn at 16 times the learning rate.',
    );
    expect(readme).toContain(
      "- With weight decay above 0, PEFT's LoRA+ optimizer also decays DoRA's magnitude vectors (at the ratio's\n" +
        '  rate); Whetstone decays only tensors of two or more dimensions.',
    );
    expect(readme).not.toContain('transformers also decays');
    expect(parseRunConfig(JSON.parse(files['run-config.json'] ?? ''))).toEqual(run);

    const plain = (await exportedFolder(chatRun({ method: 'dora', r: 4 }), tinyDecoder('llama'))).files;
    expect(plain['README.md']).not.toMatch(/LoRA\+|loraplus/);
    expect(plain['README.md']).toContain("transformers also decays DoRA's magnitude vectors");

    const classifier = await exportClassificationJob({
      run: withLoraPlus(classifierRun('dora'), 4.5),
      model: bert,
      dataset: textRows,
    });
    expect(classifier['README.md']).toContain('`loraplus_lr_ratio` 4.5 (`LORAPLUS_LR_RATIO`)');
    expect(classifier['README.md']).toContain("PEFT's LoRA+ optimizer also decays DoRA's magnitude vectors");
    const plainClassifier = await exportClassificationJob({
      run: classifierRun('dora'),
      model: bert,
      dataset: textRows,
    });
    expect(plainClassifier['README.md']).not.toMatch(/LoRA\+|loraplus/);
  });

  it('refuses LoRA+ on another method, also from a run config built in code', async () => {
    const loaded = await loadDataset('chat.jsonl', chatBytes);
    for (const method of ['ia3', 'prompt', 'full']) {
      const run = withLoraPlus(chatRun({ method }), 16);
      expect(() => jobFiles(run, tinyDecoder('llama'), loaded), method).toThrow(ExportJobError);
      expect(() => jobFiles(run, tinyDecoder('llama'), loaded), method).toThrow(
        new RegExp(`LoRA's B matrices; this run trains ${method}, which has none`),
      );
    }
    const texts = await loadDataset(textRows.name, textRows.bytes);
    expect(() => classificationJobFiles(withLoraPlus(classifierRun('ia3'), 2), bert, texts)).toThrow(
      /LoRA\+ \(training\.loraPlusLrRatio\) sets the learning rate of LoRA's B matrices; this run trains ia3,/,
    );
    await expect(
      exportClassificationJob({
        run: withLoraPlus(classifierRun('prompt'), 2),
        model: bert,
        dataset: textRows,
      }),
    ).rejects.toThrow(ExportJobError);
  });
});
