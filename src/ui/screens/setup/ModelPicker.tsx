/**
 * The model to fine-tune. For now the list holds the built-in offline model; hub models come later.
 */
import { findModel, studioModels } from '../../models/model-catalogue';
import { useAppStore } from '../../state/store';

export function ModelPicker() {
  const modelId = useAppStore((s) => s.setup.modelId);
  const setModel = useAppStore((s) => s.setModel);
  const model = findModel(modelId);
  return (
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
  );
}
