/**
 * The run setup: model, method preset, LoRA settings, the training settings every run shares, and the
 * actions: "Start" for one run of the chosen preset, "SFT vs LoRA" for two runs with matched settings (each method at its own learning rate).
 * On a preference dataset the objective (DPO or SFT on the chosen responses) shows too, and a DPO setup
 * shows DPO's own learning rates and plans memory at two rows a pair.
 * Settings are read and checked on start; errors show under their fields.
 */
import { useMemo, useState } from 'react';
import { configOf, encoderConfigOf, findModel, isClassifierModel } from '../../models/model-catalogue';
import { estimateMethod, limitsFor, memoryBudgetBytes } from '../../models/model-estimates';
import { trainingDataOf } from '../../state/dataset-slice';
import { recommendedDpoRates, recommendedRates } from '../../state/learning-rates';
import { trainsDpo } from '../../state/preference-setup';
import { type FieldErrors, type LoraTargets, type MethodPreset, planRuns } from '../../state/run-setup';
import { useAppStore } from '../../state/store';
import { DataOptionsFields } from './DataOptionsFields';
import { MemoryPlanView, refusalOf } from './MemoryPlanView';
import { ModelPicker } from './ModelPicker';
import { MoreTrainingFields } from './MoreTrainingFields';
import { ObjectiveFields } from './ObjectiveFields';
import { RunAtScaleButton } from './RunAtScaleButton';
import { SettingField } from './SettingField';

const presets: [MethodPreset, string, string][] = [
  ['full', 'Full SFT', 'Trains every weight.'],
  ['lora', 'LoRA', 'Trains small low-rank matrices beside the chosen layers.'],
  ['dora', 'DoRA', "LoRA's direction plus a trained magnitude per output."],
  ['ia3', 'IA3', 'Trains one scale per feature of keys, values and the feed-forward.'],
  ['prefix', 'Prefix', 'Trains key/value pairs that every layer attends to first.'],
  ['prompt', 'Prompt', 'Trains a few virtual token embeddings before each sequence.'],
  ['adapter', 'Adapters', 'Trains small bottleneck layers after attention and feed-forward.'],
];

export function RunSetupPanel() {
  const setup = useAppStore((s) => s.setup);
  const dataset = useAppStore((s) => s.dataset);
  const gpuUnavailable = useAppStore((s) => s.gpu.status === 'unavailable');
  const { setPreset, setLoraTargets, setUseRslora, setQuantizeBase, startRuns } = useAppStore.getState();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const model = findModel(setup.modelId);
  const gpu = useAppStore((s) => s.gpu);
  const budgetText = useAppStore((s) => s.memoryBudget);
  const setMemoryBudget = useAppStore((s) => s.setMemoryBudget);
  const budgetBytes = memoryBudgetBytes(budgetText);
  const limits = useMemo(() => limitsFor(gpu, budgetBytes), [gpu, budgetBytes]);
  const classifier = isClassifierModel(model);
  const dpo = useAppStore((s) =>
    trainsDpo(s.setup, trainingDataOf(s.dataset), isClassifierModel(model) ? 'classification' : 'causal-lm'),
  );
  const rates = dpo ? recommendedDpoRates(model) : recommendedRates(model);
  // The planner plans both: a language model's run, or a classifier's (the worker plans it again with the data's labels).
  const config = useMemo(
    () => (model ? (isClassifierModel(model) ? encoderConfigOf(model) : configOf(model)) : undefined),
    [model],
  );
  // A method the planner cannot plan for this model shows no plan here; the worker reports why on start.
  const estimateOf = (method: MethodPreset) => {
    try {
      return config ? estimateMethod(config, setup, method, limits, dpo) : undefined;
    } catch {
      return undefined;
    }
  };
  const chosenEstimate = estimateOf(setup.preset);

  const start = (kind: 'single' | 'sft-vs-lora') => {
    if (!model) return setProblem('Choose a model.');
    if (!dataset.reading.ok) return setProblem(`Fix line ${dataset.reading.line} of the dataset first.`);
    const planning = planRuns(kind, setup, model, trainingDataOf(dataset));
    if (!planning.ok) {
      setErrors(planning.errors);
      setProblem(planning.message);
      return;
    }
    setErrors({});
    // Refused here, before the worker sees it; the worker checks again with the real row length.
    for (const plan of planning.plans) {
      const estimate = estimateOf(plan.settings.method.method);
      const refusal = estimate && refusalOf(plan.label, estimate);
      if (refusal) return setProblem(refusal);
    }
    setProblem(null);
    const withBudget = planning.plans.map((plan) => {
      const train = { ...plan.spec.train, memoryBudgetBytes: budgetBytes };
      return { ...plan, settings: { ...plan.settings, train }, spec: { ...plan.spec, train } };
    });
    void startRuns(withBudget);
  };

  const presetLabel =
    dpo && setup.preset === 'full'
      ? 'full fine-tuning'
      : (presets.find(([p]) => p === setup.preset)?.[1] ?? '');
  return (
    <section className="panel" aria-labelledby="setup-heading" data-testid="setup-panel">
      <h2 id="setup-heading">Run setup</h2>
      <ModelPicker limits={limits} />
      {classifier && (
        <p className="muted" data-testid="classifier-note">
          This model is an encoder: its runs train a sequence classifier on a classification or sentence-pair
          dataset, with accuracy and F1 measured on the held-out rows.
        </p>
      )}
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
      {(setup.preset === 'prompt' || setup.preset === 'prefix') && (
        <fieldset className="settings">
          <legend>{setup.preset === 'prompt' ? 'Prompt tuning' : 'Prefix tuning'}</legend>
          <SettingField field="numVirtualTokens" label="Virtual tokens" error={errors.numVirtualTokens} />
        </fieldset>
      )}
      {setup.preset === 'adapter' && (
        <fieldset className="settings">
          <legend>Bottleneck adapters</legend>
          <SettingField
            field="reductionFactor"
            label="Reduction factor"
            hint="Bottleneck width = hidden size ÷ this."
            error={errors.reductionFactor}
          />
        </fieldset>
      )}
      <ObjectiveFields errors={errors} />
      <DataOptionsFields />
      <fieldset className="settings">
        <legend>LoRA and DoRA (used by every LoRA run)</legend>
        <SettingField field="loraR" label="Rank r" error={errors.loraR} />
        <SettingField field="loraAlpha" label="Alpha" hint="Scale is alpha / r." error={errors.loraAlpha} />
        <SettingField field="loraDropout" label="Dropout" error={errors.loraDropout} />
        <SettingField
          field="loraPlusRatio"
          label="LoRA+ ratio"
          hint="B's learning rate ÷ A's (LoRA+; its paper suggests 16). Blank: one rate for both."
          error={errors.loraPlusRatio}
        />
        <div className="setting">
          <label htmlFor="lora-targets">Target modules</label>
          <select
            id="lora-targets"
            value={setup.loraTargets}
            onChange={(event) => setLoraTargets(event.target.value as LoraTargets)}
          >
            <option value="peft-default">
              PEFT default (q_proj, v_proj; c_attn on GPT-2; query, value on BERT and RoBERTa)
            </option>
            <option value="all-linear">all-linear</option>
          </select>
        </div>
        <label className="setting checkbox-setting">
          <input
            type="checkbox"
            checked={setup.useRslora}
            onChange={(event) => setUseRslora(event.target.checked)}
            data-testid="setting-rslora"
          />{' '}
          rsLoRA scaling (alpha / √r)
        </label>
      </fieldset>
      <fieldset className="settings">
        <legend>Training (the same for every run, but for the rate)</legend>
        <SettingField field="steps" label="Steps" error={errors.steps} />
        <SettingField field="batchSize" label="Batch size" error={errors.batchSize} />
        {dpo ? (
          <>
            <SettingField
              field="dpoFullLr"
              label="Learning rate, full fine-tuning (DPO)"
              hint={`AdamW, linear decay. Suggested for this model: ${rates.full}, below SFT's: DPO refines a model that already answers.`}
              error={errors.dpoFullLr}
            />
            <SettingField
              field="dpoLr"
              label="Learning rate, PEFT methods (DPO)"
              hint={`Suggested: ${rates.peft}.`}
              error={errors.dpoLr}
            />
          </>
        ) : (
          <>
            <SettingField
              field="fullLr"
              label="Learning rate, full fine-tuning"
              hint={`AdamW, linear decay. Suggested for this model: ${rates.full}.`}
              error={errors.fullLr}
            />
            <SettingField
              field="lr"
              label="Learning rate, PEFT methods"
              hint={`Suggested: ${rates.peft}; new small parameters take larger steps than pretrained weights.`}
              error={errors.lr}
            />
          </>
        )}
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
        <MoreTrainingFields errors={errors} encoder={classifier} />
      </fieldset>
      <fieldset className="settings">
        <legend>Memory</legend>
        <div className="setting">
          <label htmlFor="setting-memoryBudget">Memory budget (GiB)</label>
          <input
            id="setting-memoryBudget"
            data-testid="setting-memoryBudget"
            type="text"
            inputMode="decimal"
            value={budgetText}
            onChange={(event) => setMemoryBudget(event.target.value)}
            aria-describedby="setting-memoryBudget-hint"
          />
          <small id="setting-memoryBudget-hint" className="muted">
            WebGPU does not report a GPU's memory; runs are planned against this.
          </small>
        </div>
        {!classifier && (
          <div className="setting wide-setting">
            <label className="checkbox-setting">
              <input
                type="checkbox"
                checked={setup.quantizeBase}
                onChange={(event) => setQuantizeBase(event.target.checked)}
                data-testid="setting-quantize-base"
                aria-describedby="setting-quantize-base-hint"
              />{' '}
              Quantize the frozen base to 4-bit NF4 (QLoRA)
            </label>
            <small id="setting-quantize-base-hint" className="muted">
              Every method but full SFT. The layers' matrices take 4.5 bits a weight; embeddings and the LM
              head stay as stored. Training stays f32, on weights rounded to 16 levels per block of 64.
            </small>
          </div>
        )}
      </fieldset>
      {chosenEstimate && <MemoryPlanView estimate={chosenEstimate} limits={limits} dpo={dpo} />}
      {classifier && chosenEstimate && (
        <p className="muted" data-testid="encoder-plan-note">
          The plan sizes the head by this model's classes; the worker plans the run again with your data's
          labels before it uploads the model. {chosenEstimate.plan.notes?.join(' ')}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className="primary"
          data-testid="start-compare"
          disabled={gpuUnavailable}
          onClick={() => start('sft-vs-lora')}
        >
          {dpo ? 'Full vs LoRA (DPO)' : 'SFT vs LoRA'}
        </button>
        <button
          type="button"
          data-testid="start-single"
          disabled={gpuUnavailable}
          onClick={() => start('single')}
        >
          Start {presetLabel}
          {dpo ? ' (DPO)' : ''}
        </button>
        <RunAtScaleButton />
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
