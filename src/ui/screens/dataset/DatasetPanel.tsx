/**
 * The dataset area: the drop zone and file picker, the worker's progress, the library of saved
 * datasets, a box for pasting text instead, and what the chosen dataset reads as. The library is
 * opened once, on mount; the dataset that was in use before a reload is read again, and read again
 * whenever the studio's model changes, so its token counts are always the chosen model's.
 */
import { useEffect, useRef } from 'react';
import { useAppStore } from '../../state/store';
import { DatasetFileView } from './DatasetFileView';
import { DatasetLibraryList } from './DatasetLibraryList';
import { DatasetPreview } from './DatasetPreview';
import { DropZone } from './DropZone';
import { ImportProgress } from './ImportProgress';
import { useAnalysisContext } from './use-analysis-context';

export function DatasetPanel() {
  const source = useAppStore((s) => s.dataset.source);
  const text = useAppStore((s) => s.dataset.text);
  const setDatasetText = useAppStore((s) => s.setDatasetText);
  const loadDatasetLibrary = useAppStore((s) => s.loadDatasetLibrary);
  const context = useAnalysisContext();
  // biome-ignore lint/correctness/useExhaustiveDependencies: opened once per page; later model changes apply to the next read.
  useEffect(() => {
    void loadDatasetLibrary(context);
  }, [loadDatasetLibrary]);
  // Token counts and masked spans are the model's own: when the model changes, the file is read again.
  const measuredWith = useAppStore((s) =>
    s.dataset.work.status === 'ready' ? s.dataset.work.analysis.tokens?.modelId : undefined,
  );
  const modelId = context.tokenizer?.modelId;
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a change of model re-reads; context follows it.
  useEffect(() => {
    if (
      source === 'library' &&
      measuredWith !== undefined &&
      modelId !== undefined &&
      measuredWith !== modelId
    )
      void useAppStore.getState().rereadDataset({}, context);
  }, [modelId, measuredWith, source]);
  // The preview marks the spans training learns: when the prompt-masking switch flips, read the file again.
  const maskPrompt = context.maskPrompt;
  const maskedWith = useRef(maskPrompt);
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a flip of the switch re-reads; context follows it.
  useEffect(() => {
    if (maskedWith.current === maskPrompt) return;
    maskedWith.current = maskPrompt;
    if (source === 'library' && measuredWith !== undefined)
      void useAppStore.getState().rereadDataset({}, context);
  }, [maskPrompt]);
  return (
    <section className="panel" aria-labelledby="dataset-heading" data-testid="dataset-panel">
      <h2 id="dataset-heading">Dataset</h2>
      <DropZone />
      <ImportProgress />
      <DatasetLibraryList />
      <label htmlFor="dataset-text" className="field-label">
        Or paste JSON Lines (<code>{'{"text": …}'}</code> per line) or plain text (one example per line)
      </label>
      <textarea
        id="dataset-text"
        data-testid="dataset-text"
        rows={5}
        spellCheck={false}
        value={text}
        placeholder={'{"text": "The first example."}\n{"text": "The second example."}'}
        onChange={(event) => setDatasetText(event.target.value)}
      />
      {source === 'pasted' ? <DatasetPreview /> : <DatasetFileView />}
    </section>
  );
}
