/**
 * "Run at scale…": downloads the current setup as a TRL + PEFT job folder (a zip: train.py, dataset/,
 * accelerate configs, requirements, README) for `accelerate launch train.py` on machines with GPUs.
 * A classifier (BERT, DistilBERT, RoBERTa) exports a transformers Trainer + PEFT SEQ_CLS job instead.
 * A DPO run exports TRL's DPOTrainer job. Methods the job cannot run (bottleneck adapters, which PEFT
 * lacks; prefix tuning on DistilBERT; prompt tuning with DPO) keep the button off, with the reason beside it.
 */
import { useState } from 'react';
import type { EncoderConfig } from '../../../train/models/bert-config';
import { saveBytes } from '../../download/save-bytes';
import {
  configOf,
  encoderConfigOf,
  findModel,
  isClassifierModel,
  type StudioModel,
} from '../../models/model-catalogue';
import { trainingDataOf } from '../../state/dataset-slice';
import { keptExportedJob } from '../../state/keep-run-spec';
import { dpoChosen } from '../../state/preference-setup';
import { planRuns } from '../../state/run-setup';
import { useAppStore } from '../../state/store';
import { exportUnavailableReason, scaleJobZip } from './run-at-scale';

/** A classifier's encoder config; undefined for a language model or an unreadable config.json. */
function encoderOf(model: StudioModel): EncoderConfig | undefined {
  if (!isClassifierModel(model)) return undefined;
  try {
    return encoderConfigOf(model);
  } catch {
    return undefined; // the export itself then says what is wrong with config.json
  }
}

export function RunAtScaleButton() {
  const preset = useAppStore((s) => s.setup.preset);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = useAppStore((s) => findModel(s.setup.modelId));
  const dpo = useAppStore((s) => dpoChosen(s.setup, trainingDataOf(s.dataset)));
  // A classifier's job is transformers' Trainer with PEFT SEQ_CLS; what it cannot run depends on the
  // encoder. A DPO job is TRL's DPOTrainer, which cannot run prompt tuning.
  const unavailable = exportUnavailableReason(
    preset,
    chosen && encoderOf(chosen),
    dpo && chosen && !isClassifierModel(chosen) ? { dpo: true } : undefined,
  );

  const exportRun = async () => {
    const { setup, dataset } = useAppStore.getState();
    const model = findModel(setup.modelId);
    if (!model) return setMessage({ error: true, text: 'Choose a model first.' });
    const data = trainingDataOf(dataset);
    const planning = planRuns('single', setup, model, data);
    if (!planning.ok) return setMessage({ error: true, text: planning.message });
    const plan = planning.plans[0];
    if (!plan) return;
    setBusy(true);
    try {
      const zip = await scaleJobZip({
        modelName: model.modelName,
        model: isClassifierModel(model) ? encoderConfigOf(model) : configOf(model),
        method: plan.settings.method,
        train: plan.settings.train,
        data,
        maskPrompt: setup.maskPrompt,
        packing: setup.packing,
        ...(plan.spec.baseQuantization ? { baseQuantization: plan.spec.baseQuantization } : {}),
      });
      const name = `whetstone-job-${plan.settings.method.method}.zip`;
      saveBytes(name, zip, 'application/zip');
      // Kept so the adapter that comes back from the job can be scored on its split (issue 9).
      const job = keptExportedJob(plan, {
        id: `job-${crypto.randomUUID()}`,
        fileName: name,
        datasetId: dataset.work.status === 'ready' ? dataset.work.entryId : null,
        savedAt: Date.now(),
      });
      if (job) void useAppStore.getState().keepExportedJob(job);
      setMessage({
        error: false,
        text: `Saved ${name}: unzip it on a GPU machine and run accelerate launch train.py (see its README).${job ? ' Import the adapter it writes under Adapters to score it on the same split.' : ''}`,
      });
    } catch (error) {
      setMessage({ error: true, text: error instanceof Error ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <span className="run-at-scale">
      <button
        type="button"
        data-testid="run-at-scale"
        disabled={Boolean(unavailable) || busy}
        aria-describedby={unavailable ? 'run-at-scale-why' : undefined}
        onClick={() => void exportRun()}
      >
        Run at scale…
      </button>
      {unavailable && (
        <small id="run-at-scale-why" className="muted" data-testid="run-at-scale-why">
          {unavailable}
        </small>
      )}
      {message && (
        <small
          className={message.error ? 'field-error' : 'muted'}
          role="status"
          data-testid="run-at-scale-status"
        >
          {message.text}
        </small>
      )}
    </span>
  );
}
