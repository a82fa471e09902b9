/**
 * The memory planner's public face, for the UI (no src/gpu behind it; plan.cpu.test.ts checks) and the
 * CLI: plan a run from a config (a decoder's, or an encoder classifier's), check it against a device's
 * limits and a budget.
 * The GPU-side helpers (adaptation-settings.ts) are imported directly by the trainer, never from here.
 */
export { checkRunMemory, type RunSettings, type RunShape } from './check-run';
export {
  type EncoderStepSettings,
  encoderCheckpointingNote,
  encoderMaxTokens,
  planEncoderMemory,
} from './encoder-plan';
export {
  assertPlanFits,
  defaultMemoryBudgetBytes,
  type FitResult,
  formatBytes,
  type MemoryLimits,
  MemoryPlanError,
} from './fit';
export { type MemoryComponent, memoryComponents } from './ledger';
export { type MemoryPlan, planMemory } from './memory-plan';
export {
  type MethodName,
  type MethodSettings,
  methodNames,
  PlanSettingsError,
  type StepSettings,
  validatePlanSettings,
} from './method-settings';
