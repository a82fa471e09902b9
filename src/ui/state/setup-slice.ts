/**
 * The run setup slice: the chosen model, the method preset and the typed settings. The form's values
 * are kept as typed; `planRuns` (run-setup.ts) reads and checks them when a run starts.
 */
import type { StateCreator } from 'zustand';
import { builtinTinyLlama } from '../models/model-catalogue';
import {
  defaultRunSetup,
  type LoraTargets,
  type MethodPreset,
  type RunSetup,
  type SetupField,
} from './run-setup';

export interface SetupSlice {
  setup: RunSetup;
  setModel(modelId: string): void;
  setPreset(preset: MethodPreset): void;
  setLoraTargets(targets: LoraTargets): void;
  setField(field: SetupField, value: string): void;
}

export const createSetupSlice: StateCreator<SetupSlice, [], [], SetupSlice> = (set) => ({
  setup: defaultRunSetup(builtinTinyLlama.id),
  setModel: (modelId) => set((s) => ({ setup: { ...s.setup, modelId } })),
  setPreset: (preset) => set((s) => ({ setup: { ...s.setup, preset } })),
  setLoraTargets: (loraTargets) => set((s) => ({ setup: { ...s.setup, loraTargets } })),
  setField: (field, value) =>
    set((s) => ({ setup: { ...s.setup, fields: { ...s.setup.fields, [field]: value } } })),
});
