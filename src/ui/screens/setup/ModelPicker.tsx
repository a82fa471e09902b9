/**
 * The model to fine-tune: the models ready to train (built in, downloaded, or from a folder) in a
 * select, the curated catalogue with sizes and per-method memory estimates, and the other sources
 * (any hub repo id, a local folder).
 */
import { findModel, studioModels } from '../../models/model-catalogue';
import type { LimitsInUse } from '../../models/model-estimates';
import { useAppStore } from '../../state/store';
import { ModelCatalogueTable } from './ModelCatalogueTable';
import { ModelSources } from './ModelSources';

export function ModelPicker({ limits }: { limits: LimitsInUse }) {
  const modelId = useAppStore((s) => s.setup.modelId);
  // Re-render when a model is loaded: the catalogue's list is module state.
  useAppStore((s) => s.models.loadedIds);
  const setModel = useAppStore((s) => s.setModel);
  const model = findModel(modelId);
  return (
    <div className="model-picker-section">
      <div className="setting wide">
        <label htmlFor="model-picker">Model</label>
        <select
          id="model-picker"
          data-testid="model-picker"
          value={modelId}
          onChange={(event) => setModel(event.target.value)}
          aria-describedby="model-description"
        >
          {studioModels.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
        </select>
        <small id="model-description" className="muted">
          {model?.description}
        </small>
      </div>
      <ModelCatalogueTable limits={limits} />
      <ModelSources />
    </div>
  );
}
