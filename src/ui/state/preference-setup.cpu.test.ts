// A preference dataset in the run setup: DPO by default (β 0.1, DPO's own rates, "· DPO" in the run's
// name, the worker's pairs from the planned spec), SFT on the chosen responses when chosen, SFT on any
// other dataset whatever the choice; DPO's fields are checked by name; its memory is planned at two rows
// per pair, as the Trainer checks it.
import { describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { openModelBundle } from '../../train/io/model-bundle';
import { filesFromMemory } from '../../train/io/model-files';
import { planMemory } from '../../train/plan/index';
import { loadRunData, runExamples, runPairs } from '../../train/worker/run-data';
import { builtinTinyLlama, configOf, type StudioModel } from '../models/model-catalogue';
import { estimateKey, estimateMethod, webGpuDefaultLimits } from '../models/model-estimates';
import type { TrainingDataset } from './dataset-slice';
import { dpoChosen, preferencePairs } from './preference-setup';
import { defaultRunSetup, planRuns, type RunSetup } from './run-setup';

const files = tinyModelFiles({ family: 'llama', hiddenSize: 32, layers: 1 });
const model: StudioModel = {
  id: 'tiny',
  label: 'Tiny',
  modelName: 'tiny-llama',
  description: '',
  maxSeqLen: 256,
  files: () => files as Record<string, Uint8Array>,
};
const rows = Array.from({ length: 10 }, (_, i) => ({
  prompt: `count ${i}:`,
  chosen: ` ${i + 1}`,
  rejected: ` ${i - 1}`,
}));
const pairsFile: TrainingDataset = {
  kind: 'file',
  file: new Blob([rows.map((r) => JSON.stringify(r)).join('\n')]),
  fileName: 'pairs.jsonl',
  settings: { skipBadRows: false },
  format: 'jsonl',
  examples: rows.length,
  preferencePairs: rows.length,
};
const chatFile: TrainingDataset = { ...pairsFile, fileName: 'chat.jsonl', preferencePairs: undefined };

const setupWith = (change: Partial<RunSetup> = {}, fields: Partial<RunSetup['fields']> = {}): RunSetup => {
  const setup = defaultRunSetup(model.id);
  return { ...setup, ...change, fields: { ...setup.fields, dpoLr: '5e-4', dpoFullLr: '2e-4', ...fields } };
};

function plansOf(kind: 'single' | 'sft-vs-lora', setup: RunSetup, data: TrainingDataset) {
  const planning = planRuns(kind, setup, model, data);
  if (!planning.ok) throw new Error(planning.message);
  return planning.plans;
}

describe('DPO in the run setup', () => {
  it('trains DPO on a preference dataset by default, named so, at DPO’s rates and β', async () => {
    expect(defaultRunSetup(model.id).objective).toBe('dpo');
    const [plan] = plansOf('single', setupWith(), pairsFile);
    expect(plan?.label).toBe('LoRA r8 · DPO');
    expect(plan?.spec.train).toMatchObject({ lr: 5e-4, preference: { beta: 0.1 } });
    expect(plan?.settings.train.preference).toEqual({ beta: 0.1 });
    expect(plan?.settings.trainExamples).toBe(9);
    // The worker makes preference pairs from the planned spec, split as SFT splits its examples.
    const { tokenizer, generation } = await openModelBundle(filesFromMemory(files, 'tiny'));
    const pairs = runPairs(await loadRunData(plan?.spec as never), tokenizer, generation.eosTokenIds[0]);
    expect([pairs.train.length, pairs.validation.length]).toEqual([9, 1]);
  });

  it('compares full and LoRA DPO, each at its DPO rate', () => {
    const plans = plansOf('sft-vs-lora', setupWith({}, { dpoBeta: '0.25' }), pairsFile);
    expect(plans.map((p) => p.label)).toEqual(['Full fine-tuning · DPO', 'LoRA r8 · DPO']);
    expect(plans.map((p) => p.spec.train.lr)).toEqual([2e-4, 5e-4]);
    for (const plan of plans) expect(plan.spec.train.preference).toEqual({ beta: 0.25 });
  });

  it('takes TRL’s loss type, named in the run', () => {
    const [ipo] = plansOf('single', setupWith({ dpoLoss: 'ipo' }), pairsFile);
    expect(ipo?.label).toBe('LoRA r8 · IPO');
    expect(ipo?.spec.train.preference).toEqual({ beta: 0.1, lossType: 'ipo' });
    const [hinge] = plansOf('single', setupWith({ dpoLoss: 'hinge' }), pairsFile);
    expect(hinge?.label).toBe('LoRA r8 · DPO (hinge)');
    expect(hinge?.spec.train.preference).toEqual({ beta: 0.1, lossType: 'hinge' });
  });

  it('leaves SFT’s packing and unmasked prompts out of a DPO spec, and keeps them for SFT', () => {
    const switches = { packing: true, maskPrompt: false };
    const [dpo] = plansOf('single', setupWith(switches), pairsFile);
    expect(dpo?.spec.data).toMatchObject({ packing: false, maskPrompt: true });
    const [sft] = plansOf('single', setupWith({ ...switches, objective: 'sft' }), pairsFile);
    expect(sft?.spec.data).toMatchObject(switches);
  });

  it('trains SFT on the chosen responses when chosen, and on any other dataset', async () => {
    const setup = setupWith({ objective: 'sft' });
    const [sft] = plansOf('single', setup, pairsFile);
    expect(sft?.label).toBe('LoRA r8');
    expect(sft?.spec.train.preference).toBeUndefined();
    expect(sft?.spec.train.lr).toBe(Number(setup.fields.lr));
    const { tokenizer, generation } = await openModelBundle(filesFromMemory(files, 'tiny'));
    const examples = runExamples(await loadRunData(sft?.spec as never), tokenizer, generation.eosTokenIds[0]);
    expect(examples.train).toHaveLength(9);

    expect(dpoChosen(setupWith(), chatFile)).toBe(false);
    expect(preferencePairs(['pasted line'])).toBe(0);
    const [chat] = plansOf('single', setupWith(), chatFile);
    expect(chat?.label).toBe('LoRA r8');
    expect(chat?.spec.train.preference).toBeUndefined();
  });

  it('names a bad β or DPO rate by its field, and ignores SFT’s rates under DPO', () => {
    const planning = planRuns(
      'single',
      setupWith({}, { dpoBeta: '0', dpoLr: 'x', lr: 'typo' }),
      model,
      pairsFile,
    );
    expect(planning.ok).toBe(false);
    if (planning.ok) return;
    expect(Object.keys(planning.errors).sort()).toEqual(['dpoBeta', 'dpoLr']);
    expect(planning.errors.dpoBeta).toMatch(/above 0/);
  });

  it('plans a DPO run’s memory at two rows per pair', () => {
    const config = configOf(builtinTinyLlama);
    const setup = defaultRunSetup(builtinTinyLlama.id);
    const limits = { ...webGpuDefaultLimits, memoryBudgetBytes: 2 ** 32 };
    const sft = estimateMethod(config, setup, 'lora', limits);
    const dpo = estimateMethod(config, setup, 'lora', limits, true);
    const batch = Number(setup.fields.batchSize);
    const seqLen = Number(setup.fields.seqLen);
    const twice = planMemory(
      config,
      { method: 'lora', r: 8 },
      { batchSize: 2 * batch, seqLen, evaluation: true },
    );
    expect(dpo.plan.totalBytes).toBe(twice.totalBytes);
    expect(dpo.plan.components.activations).toBeGreaterThan(sft.plan.components.activations);
    expect(estimateKey(setup, true)).not.toBe(estimateKey(setup));
  });
});
