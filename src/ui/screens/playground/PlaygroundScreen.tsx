/**
 * The playground: one prompt to the base model and every run of this session that has ended, side by
 * side, with the same sampling settings. Tokens stream into each column as the worker makes them; the
 * chat template is applied for models that have one (instruct models), and each column says whether
 * it was. Counts and times under each column are the worker's own. Classifiers (encoder runs, kept
 * classifier adapters) answer under "Classify" with class probabilities instead (ClassifyPanel); the
 * prompt form shows only when a language model can answer. Finished answers can be marked better and
 * worse and kept as preference pairs for DPO (PreferencePair.tsx).
 */
import { useShallow } from 'zustand/react/shallow';
import { findModel, isClassifierModel } from '../../models/model-catalogue';
import { isClassificationRecord, isClassifierAdapter } from '../../state/playground-classify';
import { canGenerate, type SamplingField } from '../../state/playground-slice';
import type { RunRecord } from '../../state/run-record';
import { useAppStore } from '../../state/store';
import { formatDuration } from '../compare/format-metric';
import '../classification.css';
import { ClassifyPanel } from './ClassifyPanel';
import { AnswerMarks, KeepPreferencePair } from './PreferencePair';

const samplingFields: [SamplingField, string, string][] = [
  ['maxNewTokens', 'Max tokens', 'New tokens per answer.'],
  ['temperature', 'Temperature', '0 is greedy.'],
  ['topK', 'Top-k', '0 is off.'],
  ['topP', 'Top-p', '1 is off.'],
  ['seed', 'Seed', 'The same seed gives the same draw.'],
];

export function PlaygroundScreen() {
  const playground = useAppStore((s) => s.playground);
  const ready = useAppStore(
    useShallow((s) =>
      s.runOrder
        .filter((id) => canGenerate(s.runs[id] as RunRecord, s.runFiles[id]))
        .map((id) => s.runs[id]?.label),
    ),
  );
  const kept = useAppStore((s) => s.adapters.entries);
  const {
    setPlaygroundPrompt,
    setSamplingField,
    setPlaygroundTemplate,
    togglePlaygroundAdapter,
    generateEverywhere,
  } = useAppStore.getState();
  const generating = playground.columns.some((c) => c.status === 'generating');
  const classifierChosen = useAppStore((s) => isClassifierModel(findModel(s.setup.modelId)));
  const classificationRuns = useAppStore((s) =>
    s.runOrder.some((id) => isClassificationRecord(s.runs[id] as RunRecord)),
  );
  const keptClassifiers = kept.some(isClassifierAdapter);
  const keptLanguageModels = kept.some((entry) => !isClassifierAdapter(entry));
  // The prompt form needs a language model: a decoder chosen, a language-model run, or such a kept adapter.
  const showGenerate = !classifierChosen || ready.length > 0 || keptLanguageModels;
  const showClassify = classifierChosen || classificationRuns || keptClassifiers;

  return (
    <section className="panel playground" aria-labelledby="playground-heading" data-testid="playground">
      <h2 id="playground-heading">Playground</h2>
      {kept.length > 0 && (
        <fieldset className="settings kept-adapters">
          <legend>Kept adapters that answer too</legend>
          {kept.map((entry) => (
            <label key={entry.id} className="setting checkbox-setting">
              <input
                type="checkbox"
                data-testid="playground-adapter"
                data-adapter-id={entry.id}
                checked={playground.adapterIds.includes(entry.id)}
                disabled={entry.modelId === undefined}
                onChange={() => togglePlaygroundAdapter(entry.id)}
              />{' '}
              {entry.name}
              {entry.modelId === undefined
                ? ' (base model unknown: imported)'
                : isClassifierAdapter(entry)
                  ? ' (classifier: answers under Classify)'
                  : ''}
            </label>
          ))}
        </fieldset>
      )}
      {showClassify && <ClassifyPanel />}
      {showGenerate && (
        <>
          <p className="muted">
            {ready.length === 0
              ? 'No run has finished in this session yet: the base model answers alone. Finished and stopped runs join here.'
              : `The base model and ${ready.length} run${ready.length === 1 ? '' : 's'} (${ready.join(', ')}) answer side by side.`}
          </p>
          <form
            className="playground-form"
            onSubmit={(event) => {
              event.preventDefault();
              void generateEverywhere();
            }}
          >
            <label htmlFor="playground-prompt">Prompt</label>
            <textarea
              id="playground-prompt"
              data-testid="playground-prompt"
              rows={3}
              value={playground.prompt}
              onChange={(event) => setPlaygroundPrompt(event.target.value)}
            />
            <fieldset className="settings sampling">
              <legend>Sampling (the same for every model)</legend>
              {samplingFields.map(([field, label, hint]) => (
                <div className="setting" key={field}>
                  <label htmlFor={`sampling-${field}`}>{label}</label>
                  <input
                    id={`sampling-${field}`}
                    data-testid={`sampling-${field}`}
                    inputMode="decimal"
                    value={playground.fields[field]}
                    onChange={(event) => setSamplingField(field, event.target.value)}
                    aria-describedby={`sampling-${field}-hint`}
                  />
                  <small id={`sampling-${field}-hint`} className="muted">
                    {hint}
                  </small>
                </div>
              ))}
              <label className="setting checkbox-setting">
                <input
                  type="checkbox"
                  checked={playground.template === 'auto'}
                  onChange={(event) => setPlaygroundTemplate(event.target.checked ? 'auto' : 'none')}
                />{' '}
                Apply the model's chat template when it has one
              </label>
            </fieldset>
            <button type="submit" className="primary" data-testid="generate" disabled={generating}>
              {generating ? 'Generating…' : 'Generate'}
            </button>
            {playground.problem && (
              <p className="field-error" role="alert" data-testid="playground-problem">
                {playground.problem}
              </p>
            )}
          </form>
          <div className="playground-columns">
            {playground.columns.map((column) => (
              <article
                key={column.key}
                className="playground-column"
                data-testid="playground-column"
                data-key={column.key}
                data-status={column.status}
                data-tokens={column.tokens ?? ''}
                style={{ borderTopColor: column.color }}
                aria-busy={column.status === 'generating'}
              >
                <h3>{column.label}</h3>
                <output className="playground-text" data-testid="playground-text" aria-live="polite">
                  {column.text}
                </output>
                {column.error && (
                  <p className="field-error" role="alert">
                    {column.error}
                  </p>
                )}
                {column.status === 'done' && (
                  <p className="muted small" data-testid="playground-stats">
                    {column.tokens} tokens in {formatDuration(column.elapsedMs ?? 0)}
                    {column.templated ? ' · chat template applied' : ' · raw prompt'}
                  </p>
                )}
                <AnswerMarks column={column} />
              </article>
            ))}
          </div>
          <KeepPreferencePair />
        </>
      )}
    </section>
  );
}
