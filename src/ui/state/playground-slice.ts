/**
 * The playground slice: one prompt, one set of sampling settings, and a column per model that answers
 * it: the base model of the runs, and every run of this session that has ended with its model (finished
 * or stopped). "Generate" sends the same prompt and settings to each at once; the worker streams their
 * tokens in device turns, so the columns fill side by side. Texts are kept per column until the next
 * prompt. Classifiers (encoder runs and kept classifier adapters) answer a typed text or pair with class
 * probabilities instead (playground-classify.ts); they never generate, and language models never classify.
 */
import type { StateCreator } from 'zustand';
import type { GenerateTarget, GenerationSettings } from '../../train/worker/protocol';
import type { StudioTrainer } from '../../train/worker/training-client';
import { findModel, isClassifierModel } from '../models/model-catalogue';
import type { AdaptersSlice } from './adapters-slice';
import { keptAdapterTarget } from './kept-adapter-target';
import {
  type ClassifyColumn,
  type ClassifyState,
  classifyAll,
  classifyTargets,
  emptyClassify,
  isClassificationRecord,
  isClassifierAdapter,
  readClassifyInput,
} from './playground-classify';
import type { RunRecord } from './run-record';
import type { RunsSlice } from './runs-slice';
import type { SetupSlice } from './setup-slice';

export type SamplingField = keyof GenerationSettings;

export interface PlaygroundColumn {
  /** 'base:<model id>' or the run id. */
  key: string;
  label: string;
  color: string;
  status: 'generating' | 'done' | 'failed';
  text: string;
  tokens?: number;
  elapsedMs?: number;
  templated?: boolean;
  error?: string;
}

export interface PlaygroundState {
  prompt: string;
  /** Typed values, read on Generate (so "0." can be typed on the way to "0.7"). */
  fields: Record<SamplingField, string>;
  template: 'auto' | 'none';
  columns: PlaygroundColumn[];
  /** The prompt the columns answer (the box may have changed since), and which Generate it was. */
  answered: { prompt: string; round: number } | null;
  problem: string | null;
  /** Kept adapters (library ids) that answer too. */
  adapterIds: string[];
  /** The classifiers' input and answers. */
  classify: ClassifyState;
}

export interface PlaygroundSlice {
  playground: PlaygroundState;
  setPlaygroundPrompt(prompt: string): void;
  setSamplingField(field: SamplingField, value: string): void;
  setPlaygroundTemplate(template: 'auto' | 'none'): void;
  togglePlaygroundAdapter(id: string): void;
  /** Runs the playground can ask: ended this session with a model in the worker. */
  generateEverywhere(): Promise<void>;
  setClassifyInput(field: 'text' | 'pair', value: string): void;
  /** Class probabilities of the typed text or pair from every classification run and chosen classifier adapter. */
  classifyEverywhere(): Promise<void>;
}

export const defaultSampling: GenerationSettings = {
  maxNewTokens: 24,
  temperature: 0,
  topK: 0,
  topP: 1,
  seed: 0,
};

/** The run can answer: it ended in this worker with its model (not failed, not from a past session). */
export const canGenerate = (record: RunRecord, files: Record<string, Uint8Array> | undefined) =>
  !isClassificationRecord(record) &&
  (record.status === 'finished' || record.status === 'stopped') &&
  files !== undefined;

export function readSampling(
  fields: Record<SamplingField, string>,
): { ok: true; settings: GenerationSettings } | { ok: false; message: string } {
  const n = (field: SamplingField) => Number(fields[field].trim() === '' ? Number.NaN : fields[field]);
  const settings: GenerationSettings = {
    maxNewTokens: n('maxNewTokens'),
    temperature: n('temperature'),
    topK: n('topK'),
    topP: n('topP'),
    seed: n('seed'),
  };
  if (
    !(Number.isInteger(settings.maxNewTokens) && settings.maxNewTokens >= 1 && settings.maxNewTokens <= 512)
  )
    return { ok: false, message: 'Max tokens must be a whole number from 1 to 512.' };
  if (!(settings.temperature >= 0 && settings.temperature <= 5))
    return { ok: false, message: 'Temperature lies in [0, 5]; 0 is greedy.' };
  if (!(Number.isInteger(settings.topK) && settings.topK >= 0))
    return { ok: false, message: 'Top-k is a whole number; 0 turns it off.' };
  if (!(settings.topP > 0 && settings.topP <= 1))
    return { ok: false, message: 'Top-p lies in (0, 1]; 1 turns it off.' };
  if (!Number.isInteger(settings.seed)) return { ok: false, message: 'The seed is a whole number.' };
  return { ok: true, settings };
}

type Store = PlaygroundSlice & RunsSlice & SetupSlice & Partial<Pick<AdaptersSlice, 'adapters'>>;

export const createPlaygroundSlice: StateCreator<Store, [], [], PlaygroundSlice> = (set, get) => {
  const patch = (key: string, change: Partial<PlaygroundColumn>) =>
    set((s) => ({
      playground: {
        ...s.playground,
        columns: s.playground.columns.map((c) => (c.key === key ? { ...c, ...change } : c)),
      },
    }));

  return {
    playground: {
      prompt: '',
      fields: Object.fromEntries(Object.entries(defaultSampling).map(([k, v]) => [k, String(v)])) as Record<
        SamplingField,
        string
      >,
      template: 'auto',
      columns: [],
      answered: null,
      problem: null,
      adapterIds: [],
      classify: emptyClassify,
    },
    setPlaygroundPrompt: (prompt) => set((s) => ({ playground: { ...s.playground, prompt } })),
    setSamplingField: (field, value) =>
      set((s) => ({ playground: { ...s.playground, fields: { ...s.playground.fields, [field]: value } } })),
    setPlaygroundTemplate: (template) => set((s) => ({ playground: { ...s.playground, template } })),
    togglePlaygroundAdapter: (id) =>
      set((s) => ({
        playground: {
          ...s.playground,
          adapterIds: s.playground.adapterIds.includes(id)
            ? s.playground.adapterIds.filter((a) => a !== id)
            : [...s.playground.adapterIds, id],
        },
      })),

    setClassifyInput: (field, value) =>
      set((s) => ({
        playground: { ...s.playground, classify: { ...s.playground.classify, [field]: value } },
      })),

    classifyEverywhere: async () => {
      const state = get();
      const classify = (change: (c: ClassifyState) => Partial<ClassifyState>) =>
        set((s) => ({
          playground: {
            ...s.playground,
            classify: { ...s.playground.classify, ...change(s.playground.classify) },
          },
        }));
      const input = readClassifyInput(state.playground.classify);
      if (typeof input === 'string') return classify(() => ({ problem: input }));
      const targets = classifyTargets(
        state.runOrder.map((id) => state.runs[id] as RunRecord),
        state.runFiles,
        state.adapters?.entries ?? [],
        state.playground.adapterIds,
      );
      if (targets.length === 0)
        return classify(() => ({
          problem:
            'No classifier to ask yet: train a classification run (choose an encoder such as the built-in tiny BERT) or choose a kept classifier adapter.',
        }));
      classify(() => ({ problem: null, columns: targets.map((t) => t.column) }));
      let trainer: StudioTrainer;
      try {
        trainer = state.studioTrainer();
      } catch (error) {
        return classify(() => ({ problem: error instanceof Error ? error.message : String(error) }));
      }
      await classifyAll(trainer, targets, input, (key, change: Partial<ClassifyColumn>) =>
        classify((c) => ({
          columns: c.columns.map((col) => (col.key === key ? { ...col, ...change } : col)),
        })),
      );
    },

    generateEverywhere: async () => {
      const state = get();
      const { prompt, template } = state.playground;
      const problem = (message: string) =>
        set((s) => ({ playground: { ...s.playground, problem: message } }));
      if (prompt.trim() === '') return problem('Type a prompt first.');
      const read = readSampling(state.playground.fields);
      if (!read.ok) return problem(read.message);
      const runs = state.runOrder
        .map((id) => state.runs[id] as RunRecord)
        .filter((r) => canGenerate(r, state.runFiles[r.id]));
      const kept = (state.adapters?.entries ?? []).filter(
        (e) =>
          state.playground.adapterIds.includes(e.id) &&
          e.modelId !== undefined &&
          findModel(e.modelId) &&
          !isClassifierAdapter(e),
      );
      // Classifiers give class probabilities, not text: they answer under "Classify" instead.
      const modelIds = [
        ...new Set(
          runs.length || kept.length
            ? [...runs.map((r) => r.settings.modelId), ...kept.map((e) => e.modelId as string)]
            : [state.setup.modelId],
        ),
      ].filter((id) => !isClassifierModel(findModel(id)));
      if (modelIds.length === 0)
        return problem(
          'The chosen model is a classifier: it gives class probabilities, not text. Use Classify, or choose a language model.',
        );
      const targets: { column: PlaygroundColumn; target: GenerateTarget }[] = [];
      for (const modelId of modelIds) {
        const model = findModel(modelId);
        if (!model) continue;
        targets.push({
          column: {
            key: `base:${model.id}`,
            label: `Base: ${model.label}`,
            color: 'var(--muted)',
            status: 'generating',
            text: '',
          },
          target: { kind: 'base', modelName: model.modelName, modelFiles: model.files() },
        });
      }
      for (const run of runs)
        targets.push({
          column: { key: run.id, label: run.label, color: run.color, status: 'generating', text: '' },
          target: { kind: 'run', runId: run.id },
        });
      for (const entry of kept) {
        const model = findModel(entry.modelId as string);
        if (!model) continue;
        const { column, target } = keptAdapterTarget(entry, model);
        targets.push({ column: { ...column, status: 'generating', text: '' }, target });
      }
      set((s) => ({
        playground: {
          ...s.playground,
          problem: null,
          columns: targets.map((t) => t.column),
          answered: { prompt, round: (s.playground.answered?.round ?? 0) + 1 },
        },
      }));
      let trainer: StudioTrainer;
      try {
        trainer = state.studioTrainer();
      } catch (error) {
        return problem(error instanceof Error ? error.message : String(error));
      }
      await Promise.all(
        targets.map(async ({ column, target }) => {
          try {
            const done = await trainer.generate(target, { text: prompt, template }, read.settings, (text) =>
              patch(column.key, { text }),
            );
            patch(column.key, {
              status: 'done',
              text: done.text,
              tokens: done.tokens,
              elapsedMs: done.elapsedMs,
              templated: done.templated,
            });
          } catch (error) {
            patch(column.key, {
              status: 'failed',
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            });
          }
        }),
      );
    },
  };
};
