/**
 * The objective, offered when the dataset holds preference pairs (prompt, chosen, rejected) and the model
 * is a language model: DPO on the pairs (the default; TRL's DPOTrainer with its sigmoid loss, the base
 * model as the reference) with its β and TRL's loss type, or SFT on the prompts and chosen responses. Other datasets train
 * SFT and show nothing here. preference-setup.ts holds the choice's rules.
 */
import type { DpoLossType } from '../../../train/train-config';
import { findModel, isClassifierModel } from '../../models/model-catalogue';
import { trainingDataOf } from '../../state/dataset-slice';
import { preferencePairs, type RunObjective } from '../../state/preference-setup';
import type { FieldErrors } from '../../state/run-setup';
import { useAppStore } from '../../state/store';
import { SettingField } from './SettingField';

const objectives: [RunObjective, string, string][] = [
  [
    'dpo',
    'DPO on the pairs',
    'Direct Preference Optimization: raises each chosen response over its rejected one, measured against the base model.',
  ],
  ['sft', 'SFT on the chosen responses', 'Supervised fine-tuning on each prompt and its chosen response.'],
];

/** TRL's loss types, as the studio offers them. */
const dpoLosses: [DpoLossType, string][] = [
  ['sigmoid', "sigmoid: DPO's own (the default)"],
  ['hinge', 'hinge: SLiC, a margin of 1/β'],
  ['ipo', 'ipo: IPO, per-token log-ratios held to 1/(2β)'],
];

export function ObjectiveFields({ errors }: { errors: FieldErrors }) {
  const objective = useAppStore((s) => s.setup.objective);
  const pairs = useAppStore((s) => preferencePairs(trainingDataOf(s.dataset)));
  const classifier = useAppStore((s) => isClassifierModel(findModel(s.setup.modelId)));
  const setObjective = useAppStore((s) => s.setObjective);
  const dpoLoss = useAppStore((s) => s.setup.dpoLoss);
  const setDpoLoss = useAppStore((s) => s.setDpoLoss);
  if (classifier || pairs === 0) return null;
  return (
    <fieldset className="presets" data-testid="objective" data-objective={objective}>
      <legend>Objective ({pairs.toLocaleString('en-US')} preference pairs)</legend>
      {objectives.map(([value, label, hint]) => (
        <label key={value} className="preset">
          <input
            type="radio"
            name="objective"
            value={value}
            checked={objective === value}
            onChange={() => setObjective(value)}
            data-testid={`objective-${value}`}
          />
          <span>
            <strong>{label}</strong> <small className="muted">{hint}</small>
          </span>
        </label>
      ))}
      {objective === 'dpo' && (
        <>
          <SettingField
            field="dpoBeta"
            label="β (beta)"
            hint="How closely the model is held to the base model: higher stays closer. TRL's default is 0.1."
            error={errors.dpoBeta}
          />
          <div className="setting">
            <label htmlFor="setting-dpoLoss">Loss (TRL's loss_type)</label>
            <select
              id="setting-dpoLoss"
              data-testid="setting-dpoLoss"
              value={dpoLoss}
              onChange={(event) => setDpoLoss(event.target.value as DpoLossType)}
            >
              {dpoLosses.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
        </>
      )}
    </fieldset>
  );
}
