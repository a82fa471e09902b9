import { describe, expect, it } from 'vitest';
import { builtinTinyBert, builtinTinyLlama, type StudioModel } from '../models/model-catalogue';
import { ratesAfterModelChange, recommendedDpoRates, recommendedRates } from './learning-rates';
import { defaultRunSetup } from './run-setup';

const hubModel = (id: string, task?: 'classification'): StudioModel => ({
  id,
  label: id,
  modelName: id,
  description: '',
  maxSeqLen: 512,
  ...(task ? { task } : {}),
  files: () => ({}),
});
const smolLm = hubModel('hub:HuggingFaceTB/SmolLM2-135M');
const bert = hubModel('hub:google-bert/bert-base-uncased', 'classification');

describe('learning rates by model', () => {
  it('starts pretrained models at the Python tools’ rates, full fine-tuning far below PEFT', () => {
    expect(recommendedRates(smolLm)).toEqual({ full: 2e-5, peft: 2e-4 });
    expect(recommendedRates(bert)).toEqual({ full: 2e-5, peft: 4e-4 });
    // Random-weight built-ins have nothing to wreck: one rate that learns within a short run.
    expect(recommendedRates(builtinTinyLlama)).toEqual({ full: 1e-3, peft: 1e-3 });
    expect(recommendedRates(builtinTinyBert)).toEqual({ full: 1e-2, peft: 1e-2 });
    expect(defaultRunSetup(builtinTinyLlama.id).fields).toMatchObject({ lr: '0.001', fullLr: '0.001' });
  });

  it('starts DPO below SFT on pretrained models, at TRL’s rates', () => {
    expect(recommendedDpoRates(smolLm)).toEqual({ full: 1e-6, peft: 5e-6 });
    expect(recommendedDpoRates(smolLm).full).toBeLessThan(recommendedRates(smolLm).full);
    expect(recommendedDpoRates(smolLm).peft).toBeLessThan(recommendedRates(smolLm).peft);
    // The random built-in has nothing to unlearn: DPO starts where SFT does.
    expect(recommendedDpoRates(builtinTinyLlama)).toEqual(recommendedRates(builtinTinyLlama));
    expect(defaultRunSetup(smolLm.id).fields).toMatchObject({ dpoBeta: '0.1' });
  });

  it('moves untouched rates to the new model’s and keeps typed ones', () => {
    const sftOnly = (fields: { lr: string; fullLr: string }) => ({
      ...fields,
      dpoLr: '0.001',
      dpoFullLr: '0.001',
    });
    const untouched = sftOnly({ lr: '0.001', fullLr: '1e-3' });
    expect(ratesAfterModelChange(untouched, builtinTinyLlama, smolLm)).toEqual({
      lr: '0.0002',
      fullLr: '0.00002',
      dpoLr: '0.000005',
      dpoFullLr: '0.000001',
    });
    const typed = { lr: '5e-4', fullLr: '0.001', dpoLr: '2e-5', dpoFullLr: '0.001' };
    expect(ratesAfterModelChange(typed, builtinTinyLlama, smolLm)).toEqual({
      lr: '5e-4',
      fullLr: '0.00002',
      dpoLr: '2e-5',
      dpoFullLr: '0.000001',
    });
    expect(
      ratesAfterModelChange(sftOnly({ lr: '5e-4', fullLr: '0.001' }), builtinTinyLlama, bert),
    ).toMatchObject({
      lr: '5e-4',
      fullLr: '0.00002',
    });
    const back = { lr: '0.0002', fullLr: '0.00002', dpoLr: '0.000005', dpoFullLr: '1e-6' };
    expect(ratesAfterModelChange(back, smolLm, builtinTinyBert)).toEqual({
      lr: '0.01',
      fullLr: '0.01',
      dpoLr: '0.01',
      dpoFullLr: '0.01',
    });
  });
});
