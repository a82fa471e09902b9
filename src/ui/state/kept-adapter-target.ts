/**
 * How the playground asks a kept adapter: the head of its answer column and the worker target that
 * loads it onto its base model. Generation and classification both ask kept adapters this way.
 */
import type { GenerateTarget } from '../../train/worker/protocol';
import type { StudioModel } from '../models/model-catalogue';
import type { AdapterEntry } from './adapter-store';

export function keptAdapterTarget(entry: AdapterEntry, model: StudioModel) {
  const target: GenerateTarget = {
    kind: 'adapter',
    key: entry.id,
    modelName: model.modelName,
    modelFiles: model.files(),
    adapterFiles: entry.files,
  };
  return {
    column: { key: `adapter:${entry.id}`, label: `Kept: ${entry.name}`, color: 'var(--accent)' },
    target,
  };
}
