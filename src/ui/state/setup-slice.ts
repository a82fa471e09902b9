/**
 * The run setup slice: the chosen model, the method preset and the typed settings. The form's values
 * are kept as typed; `planRuns` (run-setup.ts) reads and checks them when a run starts. The memory
 * budget (GiB, typed) is what runs are planned against (TrainConfig.memoryBudgetBytes). Choosing a
 * model moves the learning rates (SFT's and DPO's) to its recommended ones unless the person typed their own.
 */

import type { StateCreator } from 'zustand';
import { defaultMemoryBudgetBytes } from '../../train/plan/index';
import type { DpoLossType } from '../../train/train-config';
import { builtinTinyLlama, findModel } from '../models/model-catalogue';
import { ratesAfterModelChange } from './learning-rates';
import type { RunObjective } from './preference-setup';
import {
  defaultRunSetup,
  type LoraTargets,
  type MethodPreset,
  type RunSetup,
  type SetupField,
} from './run-setup';
import type { TrainingChoices } from './training-extras';

export interface SetupSlice {
  setup: RunSetup;
  /** GiB as typed; model-estimates.ts `memoryBudgetBytes` reads it. */
  memoryBudget: string;
  setMemoryBudget(value: string): void;
  setModel(modelId: string): void;
  setPreset(preset: MethodPreset): void;
  /** What a preference dataset trains: DPO on its pairs, or SFT on the chosen responses. */
  setObjective(objective: RunObjective): void;
  /** DPO's loss (TRL's loss_type). */
  setDpoLoss(dpoLoss: DpoLossType): void;
  setLoraTargets(targets: LoraTargets): void;
  setUseRslora(useRslora: boolean): void;
  /** QLoRA: the frozen base's layer matrices as 4-bit NF4 for every method but full fine-tuning. */
  setQuantizeBase(quantizeBase: boolean): void;
  /** The schedule, the optimizer and gradient checkpointing (training-extras.ts). */
  setTrainingChoice(choice: Partial<TrainingChoices>): void;
  /** Prompt masking and packing of the training rows. */
  setDataOption(option: 'maskPrompt' | 'packing', on: boolean): void;
  setField(field: SetupField, value: string): void;
}

export const createSetupSlice: StateCreator<SetupSlice, [], [], SetupSlice> = (set) => ({
  setup: defaultRunSetup(builtinTinyLlama.id),
  memoryBudget: String(defaultMemoryBudgetBytes / 2 ** 30),
  setMemoryBudget: (memoryBudget) => set({ memoryBudget }),
  setModel: (modelId) =>
    set((s) => {
      // Rates the person left at the old model's recommendation follow the new model's (learning-rates.ts).
      const rates = ratesAfterModelChange(s.setup.fields, findModel(s.setup.modelId), findModel(modelId));
      return { setup: { ...s.setup, modelId, fields: { ...s.setup.fields, ...rates } } };
    }),
  setPreset: (preset) => set((s) => ({ setup: { ...s.setup, preset } })),
  setObjective: (objective) => set((s) => ({ setup: { ...s.setup, objective } })),
  setDpoLoss: (dpoLoss) => set((s) => ({ setup: { ...s.setup, dpoLoss } })),
  setLoraTargets: (loraTargets) => set((s) => ({ setup: { ...s.setup, loraTargets } })),
  setUseRslora: (useRslora) => set((s) => ({ setup: { ...s.setup, useRslora } })),
  setQuantizeBase: (quantizeBase) => set((s) => ({ setup: { ...s.setup, quantizeBase } })),
  setTrainingChoice: (choice) => set((s) => ({ setup: { ...s.setup, ...choice } })),
  setDataOption: (option, on) => set((s) => ({ setup: { ...s.setup, [option]: on } })),
  setField: (field, value) =>
    set((s) => ({ setup: { ...s.setup, fields: { ...s.setup.fields, [field]: value } } })),
});
