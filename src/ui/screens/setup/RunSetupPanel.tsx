/**
 * The run setup: model, method preset, LoRA settings, the training settings every run shares, and the
 * actions: "Start" for one run of the chosen preset, "SFT vs LoRA" for two runs with matched settings.
 * Settings are read and checked on start; errors show under their fields.
 */
import { useState } from 'react';
import { findModel } from '../../models/model-catalogue';
import { datasetTexts } from '../../state/dataset-slice';
import { type FieldErrors, type LoraTargets, type MethodPreset, planRuns } from '../../state/run-setup';
import { useAppStore } from '../../state/store';
import { ModelPicker } from './ModelPicker';
import { SettingField } from './SettingField';

const presets: [MethodPreset, string, string][] = [
  ['full', 'Full SFT', 'Trains every weight.'],
  ['lora', 'LoRA', 'Trains small low-rank matrices beside the chosen layers.'],
];

export function RunSetupPanel() {
  const setup = useAppStore((s) => s.setup);
  const dataset = useAppStore((s) => s.dataset);
  const gpuUnavailable = useAppStore((s) => s.gpu.status === 'unavailable');
  const { setPreset, setLoraTargets, startRuns } = useAppStore.getState();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const model = findModel(setup.modelId);

  const start = (kind: 'single' | 'sft-vs-lora') => {
    if (!model) return setProblem('Choose a model.');
    if (!dataset.reading.ok) return setProblem(`Fix line ${dataset.reading.line} of the dataset first.`);
    const planning = planRuns(kind, setup, model, datasetTexts(dataset));
    if (!planning.ok) {
      setErrors(planning.errors);
      setProblem(planning.message);
      return;
    }
    setErrors({});
    setProblem(null);
    void startRuns(planning.plans);
  };

  const presetLabel = presets.find(([p]) => p === setup.preset)?.[1] ?? '';
  return (
    <section className="panel" aria-labelledby="setup-heading" data-testid="setup-panel">
      <h2 id="setup-heading">Run setup</h2>
      <ModelPicker />
      <fieldset className="presets">
        <legend>Method</legend>
        {presets.map(([value, label, hint]) => (
          <label key={value} className="preset">
            <input
              type="radio"
              name="method-preset"
              value={value}
              checked={setup.preset === value}
              onChange={() => setPreset(value)}
            />
            <span>
              <strong>{label}</strong> <small className="muted">{hint}</small>
            </span>
          </label>
        ))}
      </fieldset>
      <fieldset className="settings">
        <legend>LoRA (used by every LoRA run)</legend>
        <SettingField field="loraR" label="Rank r" error={errors.loraR} />
        <SettingField field="loraAlpha" label="Alpha" hint="Scale is alpha / r." error={errors.loraAlpha} />
        <SettingField field="loraDropout" label="Dropout" error={errors.loraDropout} />
        <div className="setting">
          <label htmlFor="lora-targets">Target modules</label>
          <select
            id="lora-targets"
            value={setup.loraTargets}
            onChange={(event) => setLoraTargets(event.target.value as LoraTargets)}
          >
            <option value="q_proj,v_proj">q_proj, v_proj</option>
            <option value="all-linear">all-linear</option>
          </select>
        </div>
      </fieldset>
      <fieldset className="settings">
        <legend>Training (the same for every run)</legend>
        <SettingField field="steps" label="Steps" error={errors.steps} />
        <SettingField field="batchSize" label="Batch size" error={errors.batchSize} />
        <SettingField field="lr" label="Learning rate" hint="AdamW, linear decay." error={errors.lr} />
        <SettingField
          field="seqLen"
          label="Sequence length"
          hint={model ? `Tokens per row; at most ${model.maxSeqLen}.` : undefined}
          error={errors.seqLen}
        />
        <SettingField
          field="evalEvery"
          label="Validate every"
          hint="Steps; 0 validates only at the end."
          error={errors.evalEvery}
        />
      </fieldset>
      <div className="actions">
        <button
          type="button"
          className="primary"
          data-testid="start-compare"
          disabled={gpuUnavailable}
          onClick={() => start('sft-vs-lora')}
        >
          SFT vs LoRA
        </button>
        <button
          type="button"
          data-testid="start-single"
          disabled={gpuUnavailable}
          onClick={() => start('single')}
        >
          Start {presetLabel}
        </button>
        {gpuUnavailable && <span className="muted">Training needs WebGPU; see the GPU panel.</span>}
      </div>
      {problem && (
        <p className="field-error" role="alert" data-testid="setup-problem">
          {problem}
        </p>
      )}
    </section>
  );
}
