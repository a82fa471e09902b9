/**
 * The dataset slice: the text the person pasted or dropped, where it came from, and what it reads as
 * (the examples, or the line of the first malformed row). Reading happens on every change, so the
 * count, the preview and any error always match the text on screen.
 */
import type { StateCreator } from 'zustand';
import { type DatasetReading, readDataset } from './read-dataset';

export interface DatasetState {
  text: string;
  /** The dropped or chosen file's name; null for pasted text. */
  fileName: string | null;
  reading: DatasetReading;
}

export interface DatasetSlice {
  dataset: DatasetState;
  setDatasetText(text: string, fileName?: string | null): void;
}

const read = (text: string, fileName: string | null): DatasetState => ({
  text,
  fileName,
  reading: readDataset(text, fileName),
});

export const createDatasetSlice: StateCreator<DatasetSlice, [], [], DatasetSlice> = (set) => ({
  dataset: read('', null),
  setDatasetText: (text, fileName = null) => set({ dataset: read(text, fileName) }),
});

/** The examples' texts, or none while the text has an error. */
export function datasetTexts(dataset: DatasetState): string[] {
  return dataset.reading.ok ? dataset.reading.rows.map((row) => row.text) : [];
}
