/**
 * The further training settings, folded under the common ones: gradient accumulation, warmup and the
 * schedule, weight decay, the optimizer, clipping, the seed and gradient checkpointing. They default to
 * HF TrainingArguments' values; the memory plan above follows the ones that change memory.
 */
import type { FieldErrors } from '../../state/run-setup';
import { useAppStore } from '../../state/store';
import type { TrainingChoices } from '../../state/training-extras';
import { SettingField } from './SettingField';

export function MoreTrainingFields({ errors, encoder }: { errors: FieldErrors; encoder: boolean }) {
  const setup = useAppStore((s) => s.setup);
  const setTrainingChoice = useAppStore((s) => s.setTrainingChoice);
  return (
    <details className="more-settings" data-testid="more-training-settings">
      <summary>More training settings</summary>
      <div className="more-settings-grid">
        <SettingField
          field="gradAccum"
          label="Gradient accumulation"
          hint="Micro-batches summed into each update: the effective batch is batch size × this."
          error={errors.gradAccum}
        />
        <SettingField field="warmupSteps" label="Warmup steps" error={errors.warmupSteps} />
        <div className="setting">
          <label htmlFor="setting-schedule">Learning-rate schedule</label>
          <select
            id="setting-schedule"
            data-testid="setting-schedule"
            value={setup.schedule}
            onChange={(event) =>
              setTrainingChoice({ schedule: event.target.value as TrainingChoices['schedule'] })
            }
          >
            <option value="linear">linear decay</option>
            <option value="cosine">cosine</option>
            <option value="constant">constant</option>
          </select>
        </div>
        <div className="setting">
          <label htmlFor="setting-optimizer">Optimizer</label>
          <select
            id="setting-optimizer"
            data-testid="setting-optimizer"
            value={setup.optimizer}
            onChange={(event) =>
              setTrainingChoice({ optimizer: event.target.value as TrainingChoices['optimizer'] })
            }
          >
            <option value="adamw">AdamW</option>
            <option value="sgd">SGD (no optimizer state)</option>
          </select>
        </div>
        <SettingField
          field="weightDecay"
          label="Weight decay"
          hint="On matrices only, as HF's Trainer."
          error={errors.weightDecay}
        />
        <SettingField
          field="maxGradNorm"
          label="Clip gradients to norm"
          hint="0 turns clipping off."
          error={errors.maxGradNorm}
        />
        <SettingField
          field="seed"
          label="Seed"
          hint="Initialisation, data order and dropout."
          error={errors.seed}
        />
        {!encoder && (
          <SettingField
            field="earlyStoppingPatience"
            label="Early stopping patience"
            hint="Stop after this many validations without a lower loss, keeping the best weights. Blank: off."
            error={errors.earlyStoppingPatience}
          />
        )}
        {!encoder && (
          <div className="setting wide-setting">
            <label className="checkbox-setting">
              <input
                type="checkbox"
                checked={setup.gradientCheckpointing}
                onChange={(event) => setTrainingChoice({ gradientCheckpointing: event.target.checked })}
                data-testid="setting-gradient-checkpointing"
              />{' '}
              Gradient checkpointing
            </label>
            <small className="muted">
              Recompute each layer's activations in the backward pass: less memory, about a third more time.
            </small>
          </div>
        )}
      </div>
    </details>
  );
}
