// The run setup's prompt-masking and packing switches reach the run's spec (RunSpec.data), and the
// worker's data step (loadRunData + runExamples, what openRun trains on) honours them: unmasked chat rows
// train on the prompt tokens too, and packed rows are full rows of the sequence length.
import { describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { openModelBundle } from '../../train/io/model-bundle';
import { filesFromMemory } from '../../train/io/model-files';
import { loadRunData, runExamples } from '../../train/worker/run-data';
import type { StudioModel } from '../models/model-catalogue';
import type { TrainingDataset } from './dataset-slice';
import { defaultRunSetup, planRuns, type RunSetup } from './run-setup';

const files = tinyModelFiles({ family: 'llama', hiddenSize: 32, layers: 1 });
const model: StudioModel = {
  id: 'tiny',
  label: 'Tiny',
  modelName: 'tiny-llama',
  description: '',
  maxSeqLen: 256,
  files: () => files as Record<string, Uint8Array>,
};
// Long enough that one chat example fits a row, so packing puts several in each.
const seqLen = 256;
const chat = Array.from({ length: 10 }, (_, i) => ({
  messages: [
    { role: 'user', content: `how is ${i}?` },
    { role: 'assistant', content: `${i} is fine` },
  ],
}));
const chatFile: TrainingDataset = {
  kind: 'file',
  file: new Blob([chat.map((r) => JSON.stringify(r)).join('\n')]),
  fileName: 'chat.jsonl',
  settings: { skipBadRows: false },
  format: 'jsonl',
  examples: chat.length,
};
const lines = Array.from({ length: 12 }, (_, i) => `line ${i} of the pasted text`);

const setupWith = (options: Pick<RunSetup, 'maskPrompt' | 'packing'>): RunSetup => {
  const setup = defaultRunSetup(model.id);
  return { ...setup, ...options, fields: { ...setup.fields, seqLen: String(seqLen) } };
};

async function rowsOf(setup: RunSetup, data: TrainingDataset | string[]) {
  const planning = planRuns('single', setup, model, data);
  if (!planning.ok) throw new Error(planning.message);
  const spec = (planning.plans[0] as (typeof planning.plans)[number]).spec;
  const { tokenizer, generation } = await openModelBundle(filesFromMemory(files, 'tiny'));
  return { spec, rows: runExamples(await loadRunData(spec), tokenizer, generation.eosTokenIds[0]) };
}

const masked = (row: { labels?: number[] }) => (row.labels ?? []).filter((l) => l === -100).length;

describe('prompt masking and packing from the run setup', () => {
  it('defaults to masked, unpacked rows, as before', () => {
    expect(defaultRunSetup(model.id)).toMatchObject({ maskPrompt: true, packing: false });
  });

  it('carries masking off into the spec, and the worker then trains on the prompt tokens', async () => {
    const on = await rowsOf(setupWith({ maskPrompt: true, packing: false }), chatFile);
    const off = await rowsOf(setupWith({ maskPrompt: false, packing: false }), chatFile);
    expect(on.spec.data).toMatchObject({ maskPrompt: true, packing: false });
    expect(off.spec.data).toMatchObject({ maskPrompt: false, packing: false });
    expect(off.rows.train).toHaveLength(on.rows.train.length);
    for (const row of on.rows.train) expect(masked(row)).toBeGreaterThan(3);
    for (const row of off.rows.train) expect(masked(row)).toBe(0);
  });

  it('carries packing into the spec, and the worker packs the file into full rows', async () => {
    const plain = await rowsOf(setupWith({ maskPrompt: true, packing: false }), chatFile);
    const packed = await rowsOf(setupWith({ maskPrompt: true, packing: true }), chatFile);
    expect(packed.spec.data).toMatchObject({ maskPrompt: true, packing: true });
    const tokens = (rows: { ids: number[] }[]) => rows.reduce((n, r) => n + r.ids.length, 0);
    expect(packed.rows.train.length).toBeLessThan(plain.rows.train.length);
    // Every row but the last is full; no token is lost to padding or cutting (EOS joins examples).
    for (const row of packed.rows.train.slice(0, -1)) expect(row.ids).toHaveLength(seqLen);
    expect(tokens(packed.rows.train)).toBeGreaterThanOrEqual(tokens(plain.rows.train));
  });

  it('packs pasted lines through the data pipeline, keeping the same held-out lines', async () => {
    const plain = await rowsOf(setupWith({ maskPrompt: true, packing: false }), lines);
    expect(plain.spec.trainTexts).toHaveLength(11);
    const packed = await rowsOf(setupWith({ maskPrompt: true, packing: true }), lines);
    expect(packed.spec.trainTexts).toBeUndefined();
    expect(packed.spec.data?.examples?.map((e) => (e.kind === 'text' ? e.text : ''))).toEqual(
      lines.slice(0, 11),
    );
    expect(packed.spec.data?.validationExamples?.map((e) => (e.kind === 'text' ? e.text : ''))).toEqual(
      plain.spec.validationTexts,
    );
    expect(packed.spec.data?.packing).toBe(true);
    expect(packed.rows.train.length).toBeLessThan(plain.rows.train.length);
    for (const row of packed.rows.train.slice(0, -1)) expect(row.ids).toHaveLength(seqLen);
  });
});
