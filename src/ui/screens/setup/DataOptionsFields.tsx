/**
 * How the examples become training rows, as the CLI's `--no-mask-prompt` and `--packing` choose it:
 * prompt masking (the loss counts only the responses of chat and prompt/completion rows) and packing
 * (examples concatenated, EOS between them, into full rows of the sequence length, as TRL's
 * packing=True). Both go into the run's spec (RunSpec.data) and the worker's data pipeline honours them.
 * A classifier's rows are labelled texts (nothing to mask or pack), so it shows none of this. DPO always
 * scores only each pair's responses, one row a side, so under DPO these settings wait for SFT runs.
 */
import { findModel, isClassifierModel } from '../../models/model-catalogue';
import { trainingDataOf } from '../../state/dataset-slice';
import { dpoChosen } from '../../state/preference-setup';
import { useAppStore } from '../../state/store';

export function DataOptionsFields() {
  const maskPrompt = useAppStore((s) => s.setup.maskPrompt);
  const packing = useAppStore((s) => s.setup.packing);
  const setDataOption = useAppStore((s) => s.setDataOption);
  const pasted = useAppStore((s) => trainingDataOf(s.dataset).kind === 'texts');
  const classifier = useAppStore((s) => isClassifierModel(findModel(s.setup.modelId)));
  const dpo = useAppStore((s) => dpoChosen(s.setup, trainingDataOf(s.dataset)));
  if (classifier) return null;
  return (
    <fieldset className="settings" data-testid="data-options">
      <legend>Training rows</legend>
      {dpo && (
        <small className="muted setting wide-setting" data-testid="data-options-dpo">
          DPO scores only the responses of each pair, one row for the chosen and one for the rejected: these
          two settings apply to SFT runs.
        </small>
      )}
      <div className="setting">
        <label className="checkbox-setting">
          <input
            type="checkbox"
            checked={maskPrompt}
            onChange={(event) => setDataOption('maskPrompt', event.target.checked)}
            data-testid="setting-maskPrompt"
            aria-describedby="setting-maskPrompt-hint"
          />
          Mask prompts (train on responses only)
        </label>
        <small id="setting-maskPrompt-hint" className="muted">
          {pasted
            ? 'Pasted lines are plain text, with no prompt to mask: every token is trained on either way.'
            : "Chat and prompt/completion rows: off trains on the prompts as well (the CLI's --no-mask-prompt)."}
        </small>
      </div>
      <div className="setting">
        <label className="checkbox-setting">
          <input
            type="checkbox"
            checked={packing}
            onChange={(event) => setDataOption('packing', event.target.checked)}
            data-testid="setting-packing"
            aria-describedby="setting-packing-hint"
          />
          Pack examples into full rows
        </label>
        <small id="setting-packing-hint" className="muted">
          {packing
            ? "Examples are joined, with an end-of-text token between them, into rows of the sequence length: no padding, and a row can hold parts of several examples (the CLI's --packing)."
            : 'Each example is its own row, cut at the sequence length and padded.'}
        </small>
      </div>
    </fieldset>
  );
}
