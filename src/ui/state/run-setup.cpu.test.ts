import { describe, expect, it } from 'vitest';
import type { StudioModel } from '../models/model-catalogue';
import { defaultRunSetup, planRuns, type RunSetup } from './run-setup';

const model: StudioModel = {
  id: 'fake',
  label: 'Fake model',
  modelName: 'fake/model',
  description: '',
  maxSeqLen: 128,
  files: () => ({ 'config.json': new Uint8Array([123, 125]) }),
};

const texts = ['one', 'two', 'three', 'four', 'five'];
const withFields = (fields: Partial<RunSetup['fields']>): RunSetup => {
  const setup = defaultRunSetup(model.id);
  return { ...setup, fields: { ...setup.fields, ...fields } };
};

describe('planning runs from the setup', () => {
  it('plans SFT and LoRA with the same training settings and data, each at its own rate', () => {
    const planning = planRuns(
      'sft-vs-lora',
      withFields({ steps: '3', lr: '1e-2', fullLr: '3e-5' }),
      model,
      texts,
    );
    if (!planning.ok) throw new Error(planning.message);
    const [sft, lora] = planning.plans;
    expect(sft?.label).toBe('Full SFT');
    expect(lora?.label).toBe('LoRA r8');
    expect(sft?.spec.method).toEqual({ method: 'full' });
    expect(lora?.spec.method).toEqual({
      method: 'lora',
      r: 8,
      alpha: 16,
      dropout: 0.05,
    });
    // No targets named: the engine applies PEFT's default for the architecture (c_attn on GPT-2).
    expect(lora?.spec.method).not.toHaveProperty('targetModules');
    expect({ ...sft?.spec.train, lr: 0 }).toEqual({ ...lora?.spec.train, lr: 0 });
    expect(sft?.spec.train).toMatchObject({ steps: 3, lr: 3e-5, batchSize: 4, seqLen: 64 });
    expect(lora?.spec.train.lr).toBe(0.01);
    expect(sft?.settings.train.lr).toBe(3e-5);
    expect(sft?.spec.trainTexts).toEqual(['one', 'two', 'three', 'four']);
    expect(sft?.spec.validationTexts).toEqual(['five']);
    expect(sft?.settings).toMatchObject({ trainExamples: 4, validationExamples: 1, validationHeldOut: true });
  });

  it('plans one run of the chosen preset', () => {
    const setup = { ...defaultRunSetup(model.id), preset: 'full' as const };
    const planning = planRuns('single', setup, model, texts);
    expect(planning.ok && planning.plans.map((p) => p.spec.method)).toEqual([{ method: 'full' }]);
    const allLinear = { ...defaultRunSetup(model.id), loraTargets: 'all-linear' as const };
    const lora = planRuns('single', allLinear, model, texts);
    expect(lora.ok && lora.plans[0]?.spec.method).toMatchObject({ targetModules: 'all-linear' });
  });

  it('quantizes the base of the PEFT run only, and names it QLoRA', () => {
    const setup = { ...withFields({ steps: '3' }), quantizeBase: true };
    const planning = planRuns('sft-vs-lora', setup, model, texts);
    if (!planning.ok) throw new Error(planning.message);
    const [sft, lora] = planning.plans;
    expect(sft?.spec.baseQuantization).toBeUndefined();
    expect(sft?.settings.baseQuantization).toBeUndefined();
    expect(lora?.spec.baseQuantization).toBe('nf4');
    expect(lora?.settings.baseQuantization).toBe('nf4');
    expect([sft?.label, lora?.label]).toEqual(['Full SFT', 'QLoRA r8']);
    const ia3 = planRuns('single', { ...setup, preset: 'ia3' }, model, texts);
    expect(ia3.ok && ia3.plans[0]?.label).toBe('IA3, NF4 base');
    const off = planRuns('single', withFields({}), model, texts);
    expect(off.ok && off.plans[0]?.spec.baseQuantization).toBeUndefined();
  });

  it("gives the LoRA run LoRA+'s ratio and the full run none; blank is off", () => {
    const planning = planRuns('sft-vs-lora', withFields({ loraPlusRatio: '16' }), model, texts);
    if (!planning.ok) throw new Error(planning.message);
    const [sft, lora] = planning.plans;
    expect(sft?.spec.train.loraPlusLrRatio).toBeUndefined();
    expect(lora?.spec.train.loraPlusLrRatio).toBe(16);
    expect(lora?.label).toBe('LoRA r8, LoRA+ ×16');
    const off = planRuns('single', withFields({ loraPlusRatio: ' ' }), model, texts);
    expect(off.ok && off.plans[0]?.spec.train.loraPlusLrRatio).toBeUndefined();
    const ia3 = planRuns('single', { ...withFields({ loraPlusRatio: '16' }), preset: 'ia3' }, model, texts);
    expect(ia3.ok && ia3.plans[0]?.spec.train.loraPlusLrRatio).toBeUndefined();
    const bad = planRuns('single', withFields({ loraPlusRatio: '-2' }), model, texts);
    expect(bad.ok ? null : bad.errors.loraPlusRatio).toMatch(/above 0, or blank for off/);
  });

  it('reads the further training settings into every run, naming a field that does not read', () => {
    const setup: RunSetup = {
      ...withFields({ gradAccum: '4', warmupSteps: '5', weightDecay: '0.01', maxGradNorm: '0', seed: '7' }),
      schedule: 'cosine',
      optimizer: 'sgd',
      gradientCheckpointing: true,
    };
    const planning = planRuns('sft-vs-lora', setup, model, texts);
    if (!planning.ok) throw new Error(planning.message);
    for (const plan of planning.plans)
      expect(plan.spec.train).toMatchObject({
        gradAccum: 4,
        warmupSteps: 5,
        weightDecay: 0.01,
        maxGradNorm: 0,
        seed: 7,
        schedule: 'cosine',
        optimizer: 'sgd',
        gradientCheckpointing: true,
      });
    const bad = planRuns(
      'single',
      { ...setup, fields: { ...setup.fields, gradAccum: '0', weightDecay: '-1' } },
      model,
      texts,
    );
    expect(bad.ok ? {} : bad.errors).toMatchObject({
      gradAccum: 'Enter a whole number of at least 1.',
      weightDecay: 'Weight decay must not be negative.',
    });
  });

  it('names every field that does not read', () => {
    const planning = planRuns(
      'single',
      withFields({ steps: '2.5', lr: '-1', fullLr: '0', seqLen: '4096', loraDropout: '1', batchSize: '' }),
      model,
      texts,
    );
    expect(planning.ok).toBe(false);
    expect(!planning.ok && Object.keys(planning.errors).sort()).toEqual([
      'batchSize',
      'fullLr',
      'loraDropout',
      'lr',
      'seqLen',
      'steps',
    ]);
    expect(!planning.ok && planning.errors.seqLen).toContain('at most 128');
  });

  it('asks for a dataset first', () => {
    const planning = planRuns('single', defaultRunSetup(model.id), model, []);
    expect(!planning.ok && planning.message).toMatch(/dataset/);
  });
});
