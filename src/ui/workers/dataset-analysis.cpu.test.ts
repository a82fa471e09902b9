import { describe, expect, it } from 'vitest';
import { DatasetRowError } from '../../train/data/jsonl';
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { analyzeDataset, lengthHistogram, previewSpans } from './dataset-analysis';
import { DatasetAnalysisError, datasetAnalyzer, type WorkerLike } from './dataset-client';
import { handleDatasetRequest } from './dataset-handler';
import type { AnalysisTokenizer, DatasetWorkerEvent, DatasetWorkerRequest } from './dataset-protocol';

const bytes = (text: string) => new TextEncoder().encode(text).length;
const files = Object.fromEntries(
  Object.entries(tinyModelFiles({ family: 'llama' })).map(([name, content]) => [
    name,
    typeof content === 'string' ? new TextEncoder().encode(content) : content,
  ]),
);
/** The built-in model's tokenizer: one token per byte, BOS added, <s> 256 and </s> 257, a ChatML template. */
const tokenizer: AnalysisTokenizer = { modelId: 'tiny', files };
const jsonl = (...rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');
const settings = { skipBadRows: false };

describe('analysing a dataset file', () => {
  it('shows a chat row through the model template, the user turn masked and the reply trained', async () => {
    const messages = [
      { role: 'user', content: 'Hi there' },
      { role: 'assistant', content: 'Hello!' },
    ];
    const analysis = await analyzeDataset({
      file: new Blob([jsonl({ messages }, { messages })]),
      fileName: 'chat.jsonl',
      settings,
      tokenizer,
    });
    const prompt = '<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n';
    const reply = 'Hello!<|im_end|>\n';
    expect(analysis).toMatchObject({ format: 'jsonl', schema: { kind: 'chat' }, rows: 2, examples: 2 });
    expect(analysis.preview[0]).toEqual({
      kind: 'tokens',
      line: 1,
      spans: [
        { text: prompt, trained: false },
        { text: reply, trained: true },
      ],
      tokens: bytes(prompt + reply),
      trainedTokens: bytes(reply),
      overMaxLength: false,
    });
    expect(analysis.tokens).toMatchObject({ template: 'model', trained: 2 * bytes(reply), modelId: 'tiny' });
    expect(analysis.trainableExamples).toBe(2);
  });

  it('masks the prompt of prompt/completion rows and measures lengths with BOS and EOS', async () => {
    const rows = [
      { prompt: 'Q: 2+2? ', completion: 'A: 4' },
      { prompt: 'Q: capital of France? ', completion: 'A: Paris' },
      { prompt: 'Q: ', completion: 'A' },
    ];
    const analysis = await analyzeDataset({
      file: new Blob([`${jsonl(...rows)}\n`]),
      fileName: 'qa.jsonl',
      settings,
      tokenizer,
      maxLength: 16,
      previewRows: 2,
    });
    const lengths = rows.map((r) => 1 + bytes(r.prompt + r.completion) + 1);
    expect(analysis.preview).toHaveLength(2);
    expect(analysis.preview[0]).toMatchObject({
      spans: [
        { text: '<s>Q: 2+2? ', trained: false },
        { text: 'A: 4</s>', trained: true },
      ],
      tokens: lengths[0],
      trainedTokens: bytes('A: 4') + 1,
      overMaxLength: (lengths[0] as number) > 16,
    });
    expect(analysis.tokens).toMatchObject({
      count: 3,
      min: Math.min(...lengths),
      max: Math.max(...lengths),
      total: lengths.reduce((a, b) => a + b),
      overMaxLength: lengths.filter((n) => n > 16).length,
      template: 'none',
    });
    expect(analysis.histogram.reduce((n, b) => n + b.count, 0)).toBe(3);
    expect(analysis.histogram[0]?.from).toBe(Math.min(...lengths));
    expect(analysis.trainableExamples).toBe(3);
  });

  it('stops at a bad row with its line, or skips and counts bad rows when asked', async () => {
    const text = '{"text": "one"}\n{"text": "two"\n{"text": "three"}\n';
    const file = new Blob([text]);
    const error = await analyzeDataset({ file, fileName: 'bad.jsonl', settings }).catch((e) => e);
    expect(error).toBeInstanceOf(DatasetRowError);
    expect(error).toMatchObject({ line: 2 });
    const skipped = await analyzeDataset({ file, fileName: 'bad.jsonl', settings: { skipBadRows: true } });
    expect(skipped).toMatchObject({ rows: 3, badRows: 1, examples: 2 });
    expect(skipped.badRowSamples[0]?.line).toBe(2);
    expect(skipped.badRowSamples[0]?.message).toContain('bad.jsonl, line 2');
    expect(skipped.preview).toEqual([
      { kind: 'untokenized', line: 1, text: 'one' },
      { kind: 'untokenized', line: 3, text: 'three' },
    ]);
  });

  it("takes the person's schema and column mapping", async () => {
    const csv = 'question,answer\r\n"What, exactly?",Everything\r\n';
    const analysis = await analyzeDataset({
      file: new Blob([csv]),
      fileName: 'qa.csv',
      settings: {
        skipBadRows: false,
        schema: { kind: 'prompt-completion', columns: { prompt: 'question', completion: 'answer' } },
      },
      tokenizer,
    });
    expect(analysis).toMatchObject({ format: 'csv', schemaDetected: false, columns: ['question', 'answer'] });
    expect(analysis.preview[0]).toMatchObject({
      spans: [
        { text: '<s>What, exactly?', trained: false },
        { text: 'Everything</s>', trained: true },
      ],
    });
  });

  it('counts classification rows with their labels and no template', async () => {
    const tsv = 'sentence\tlabel\nfine\t1\nbad\t0\ngood\t1\n';
    const analysis = await analyzeDataset({
      file: new Blob([tsv]),
      fileName: 'sst.tsv',
      settings,
      tokenizer,
    });
    expect(analysis.schema.kind).toBe('classification');
    expect(analysis.labels).toEqual({ set: [0, 1], counts: { '0': 1, '1': 2 } });
    expect(analysis.preview[0]).toEqual({
      kind: 'classification',
      line: 2,
      text: 'fine',
      label: 1,
      tokens: 5,
    });
    expect(analysis.trainableExamples).toBe(0);
  });
});

describe('token-length histogram and spans', () => {
  it('bins whole lengths from the shortest to the longest', () => {
    expect(lengthHistogram([3, 4, 4, 6], 24)).toEqual([
      { from: 3, to: 4, count: 1 },
      { from: 4, to: 5, count: 2 },
      { from: 5, to: 6, count: 0 },
      { from: 6, to: 7, count: 1 },
    ]);
    const wide = lengthHistogram([1, 100], 10);
    expect(wide).toHaveLength(10);
    expect(wide[0]).toEqual({ from: 1, to: 11, count: 1 });
    expect(wide[9]).toEqual({ from: 91, to: 101, count: 1 });
    expect(lengthHistogram([])).toEqual([]);
  });

  it('groups tokens by whether they are trained', () => {
    const decode = (ids: number[]) => ids.join(',');
    expect(previewSpans([1, 2, 3, 4, 5], [-100, -100, 3, 4, -100], decode)).toEqual([
      { text: '1,2', trained: false },
      { text: '3,4', trained: true },
      { text: '5', trained: false },
    ]);
    expect(previewSpans([], [], decode)).toEqual([]);
  });
});

describe('the dataset worker messages', () => {
  /** The handler, run in-process behind a Worker-shaped object. */
  function inProcessWorker(sent: DatasetWorkerEvent[]): WorkerLike {
    let listener: ((event: MessageEvent<DatasetWorkerEvent>) => void) | undefined;
    return {
      postMessage: (request: DatasetWorkerRequest) =>
        void handleDatasetRequest(request, (event) => {
          sent.push(event);
          listener?.({ data: event } as MessageEvent<DatasetWorkerEvent>);
        }),
      addEventListener: ((type: string, l: (event: MessageEvent<DatasetWorkerEvent>) => void) => {
        if (type === 'message') listener = l;
      }) as WorkerLike['addEventListener'],
    };
  }

  it('reports reading progress up to the file size, then one analysis, all under the request id', async () => {
    const sent: DatasetWorkerEvent[] = [];
    const text = jsonl(...Array.from({ length: 50 }, (_, i) => ({ text: `row ${i}` })));
    const analyzer = datasetAnalyzer(() => inProcessWorker(sent));
    const progress: number[] = [];
    const analysis = await analyzer.analyze(
      { file: new Blob([text]), fileName: 'rows.jsonl', settings },
      (p) => {
        if (p.phase === 'reading') progress.push(p.done);
      },
    );
    expect(analysis.examples).toBe(50);
    expect(progress[progress.length - 1]).toBe(bytes(text));
    expect(sent.every((e) => e.id === 1)).toBe(true);
    expect(sent.filter((e) => e.kind === 'analysis')).toHaveLength(1);
    expect(sent[sent.length - 1]?.kind).toBe('analysis');
  });

  it("rejects with the worker's error name, line and the file's columns", async () => {
    const analyzer = datasetAnalyzer(() => inProcessWorker([]));
    const bad = await analyzer
      .analyze({ file: new Blob(['{"text": "a"}\n\n{oops}\n']), fileName: 'b.jsonl', settings })
      .catch((e) => e);
    expect(bad).toBeInstanceOf(DatasetAnalysisError);
    expect(bad).toMatchObject({ errorName: 'DatasetRowError', line: 3, unit: 'line' });
    expect(bad.message).toBe('b.jsonl, line 3: not valid JSON: {oops}');
    const unknown = await analyzer
      .analyze({ file: new Blob(['{"foo": 1, "bar": 2}\n']), fileName: 'c.jsonl', settings })
      .catch((e) => e);
    expect(unknown).toMatchObject({ errorName: 'SchemaDetectionError', columns: ['foo', 'bar'] });
  });
});
