/**
 * Where adapter evaluations live: IndexedDB through idb-keyval, in a database of their own
 * ("whetstone-evaluations"), one entry per evaluation, beside the run history (which keeps the runs).
 * A memory store with the same interface serves tests. Entries are plain data.
 */
import type { PreferenceMetrics } from '../../train/objective';
import type { ClassificationScores } from '../../train/worker/protocol';
import { idbKeyedStore, type KeyedStore, memoryKeyedStore } from './keyed-store';

/** A kept adapter scored on a run's validation split, with the run's own numbers as they were then. */
export interface AdapterEvaluation {
  id: string;
  adapterId: string;
  adapterName: string;
  /** True for an adapter imported into the library (trained elsewhere), false for one a run here kept. */
  imported: boolean;
  runId: string;
  runLabel: string;
  runColor: string;
  /** The run's last step, where the chart marks the adapter's loss. */
  runFinalStep: number;
  /** The run's own final validation loss, as its run measured it (a DPO run's: its DPO loss). */
  runFinalValLoss?: number;
  /** The adapter's mean validation loss on the run's split (a DPO run's: the DPO loss per pair). */
  loss: number;
  /** Validation examples (a DPO run's: pairs) scored. */
  examples: number;
  /** A classification run's split: the adapter's accuracy, F1 and confusion matrix there. */
  classification?: ClassificationScores;
  /** The run's own scores at its last evaluation, to set beside the adapter's. */
  runFinalClassification?: ClassificationScores;
  /** A DPO run's split: the adapter's rewards on its pairs, the base model as the reference. */
  preference?: PreferenceMetrics;
  /** The run's own rewards at its last evaluation, to set beside the adapter's. */
  runFinalPreference?: PreferenceMetrics;
  createdAt: number;
}

export type EvaluationStore = KeyedStore<AdapterEvaluation>;

export const idbEvaluationStore = (): EvaluationStore =>
  idbKeyedStore<AdapterEvaluation>('whetstone-evaluations', 'evaluations');

export const memoryEvaluationStore = (): EvaluationStore => memoryKeyedStore<AdapterEvaluation>();
