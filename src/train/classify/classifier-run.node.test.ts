/**
 * A studio classification run end to end through the worker's handler with a real runtime: the built-in
 * tiny BERT, LoRA, an in-memory MRPC-style TSV Blob (Quality, #1 ID, #2 ID, #1 String, #2 String) split
 * 3:1 by the spec's validation fraction. Checked: a progress event per update with measured figures; eval
 * events at every epoch's end and every `evalEvery` updates whose accuracy is the confusion matrix's own
 * recount and, at the end, the recount from the run's validation logits; ≥ 90% validation accuracy on a
 * task a single sentence decides (does "#1 String" name an animal?); the exported folder is PEFT's SEQ_CLS
 * LoRA layout with the head under base_model.model.classifier.*; `classify` gives probabilities that sum
 * to 1 and equal the softmax of the evaluator's logits for that row, and the exported folder opened as a
 * kept adapter gives the same; `evaluate` on the run's split gives the last eval event's scores.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../gpu/testing/random';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { builtInClassifierFiles, builtInClassifierName } from '../fixtures/tiny-encoders';
import { tinyWordPiece } from '../fixtures/tiny-wordpiece';
import { parseSafetensorsHeader } from '../io/safetensors';
import { defaultTrainConfig } from '../train-config';
import { createHandler } from '../worker/handler';
import type { ClassificationScores } from '../worker/protocol';
import { type OpenedRun, openRun } from '../worker/run-engine';
import type { RunSpec } from '../worker/run-spec';
import { MessageClient, type RunEvent } from '../worker/training-client';
import type { OpenedClassifierRun } from './classifier-run';
import { PairEncoder } from './pair-encoder';

const things = ['cat', 'dog', 'mat'];
const sentences = (x: string, y: string) => ({ text: `The ${x} sat .`, pair: `On the ${y} !` });

/** MRPC's layout; Quality 1 when the first sentence names an animal; balanced. */
function mrpcTsv(count: number, seed: number): string {
  const random = seededRandom(seed);
  const rows = Array.from({ length: count }, (_, i) => {
    const x = i % 2 === 0 ? (random() < 0.5 ? 'cat' : 'dog') : 'mat';
    const y = things[Math.floor(random() * 3)] as string;
    const { text, pair } = sentences(x, y);
    return `${x === 'mat' ? 0 : 1}\t${1000 + i}\t${2000 + i}\t${text}\t${pair}`;
  });
  return `\uFEFFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n${rows.join('\n')}\n`;
}

function softmax64(logits: ArrayLike<number>): number[] {
  const values = Array.from(logits);
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

const recount = (s: ClassificationScores) => {
  const total = s.confusion.flat().reduce((a, b) => a + b, 0);
  return { accuracy: s.confusion.reduce((n, row, k) => n + (row[k] as number), 0) / total, total };
};

const evalEvery = 4;
const spec: RunSpec = {
  task: 'classification',
  modelFiles: builtInClassifierFiles(),
  modelName: builtInClassifierName,
  method: { method: 'lora', r: 8, alpha: 16, dropout: 0 },
  train: { ...defaultTrainConfig, lr: 3e-2, epochs: 10, batchSize: 16, seqLen: 32, seed: 0, evalEvery },
  data: {
    file: { blob: new Blob([mrpcTsv(64, 1)]), fileName: 'msr_paraphrase_train.txt' },
    validationFraction: 0.25,
  },
};

describe('a classification run in the training worker', () => {
  let client: MessageClient;
  let opened: OpenedClassifierRun;
  const events: RunEvent[] = [];
  let totalSteps = 0;
  let seconds = 0;

  beforeAll(async () => {
    const runtime = await testRuntime();
    const handle = createHandler({
      post: (message) => client.receive(message),
      runtime: async () => runtime,
      openRun: async (rt, s, signal) => {
        const run: OpenedRun = await openRun(rt, s, signal);
        opened = run as OpenedClassifierRun;
        return run;
      },
      now: () => performance.now(),
    });
    client = new MessageClient((request) => void handle(request));
    const finished = new Promise<void>((resolve, reject) =>
      client.onEvent((event) => {
        events.push(event);
        if (event.kind === 'run-finished') resolve();
        if (event.kind === 'error') reject(new Error(`${event.name}: ${event.message}`));
      }),
    );
    const started = performance.now();
    totalSteps = (await client.startRun('cls', spec)).totalSteps;
    await finished;
    seconds = (performance.now() - started) / 1000;
  }, 120_000);

  it('streams measured progress and scored evaluations, and learns the task', async () => {
    const progress = events.flatMap((e) => (e.kind === 'progress' ? [e.progress] : []));
    const evals = events.flatMap((e) => (e.kind === 'eval' ? [e] : []));
    // 48 training rows in batches of 16: 3 updates per epoch.
    expect(totalSteps).toBe(30);
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    for (const p of progress) {
      expect(Number.isFinite(p.loss) && p.gradNorm > 0 && p.lr > 0 && p.tokensPerSecond > 0).toBe(true);
      expect(p.trainableParams).toBeLessThan(p.totalParams);
    }
    const expectedEvalSteps = Array.from({ length: 30 }, (_, i) => i + 1).filter(
      (s) => s % 3 === 0 || s % evalEvery === 0,
    );
    expect(evals.map((e) => e.step)).toEqual(expectedEvalSteps);
    for (const e of evals) {
      const scores = e.classification as ClassificationScores;
      expect(scores.labels).toEqual(['0', '1']);
      expect(recount(scores)).toEqual({ accuracy: scores.accuracy, total: 16 });
      expect(scores.count).toBe(16);
    }
    const first = evals[0]?.classification as ClassificationScores;
    const last = evals.at(-1)?.classification as ClassificationScores;
    console.log(
      `classification run: ${seconds.toFixed(1)} s, accuracy ${first.accuracy} → ${last.accuracy}, eval loss ${evals[0]?.loss.toFixed(3)} → ${evals.at(-1)?.loss.toFixed(3)}`,
    );
    expect(last.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(evals.at(-1)?.loss as number).toBeLessThan(evals[0]?.loss as number);
    // The run's own validation logits, recounted: the same accuracy the last eval event reported.
    const { rows, logits } = await opened.validationLogits();
    const right = rows.filter(
      (row, i) => (logits[2 * i + 1] as number) > (logits[2 * i] as number) === (row.label === 1),
    );
    expect(right.length / rows.length).toBe(last.accuracy);
  });

  it('exports a PEFT SEQ_CLS LoRA folder with the classifier as modules_to_save', () => {
    const finished = events.find((e) => e.kind === 'run-finished');
    if (finished?.kind !== 'run-finished') throw new Error('no run-finished event');
    const config = JSON.parse(new TextDecoder().decode(finished.files['adapter_config.json']));
    expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'SEQ_CLS', r: 8, lora_alpha: 16 });
    expect(config.modules_to_save).toContain('classifier');
    const weights = finished.files['adapter_model.safetensors'] as Uint8Array;
    const names = parseSafetensorsHeader('adapter_model.safetensors', weights).map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'base_model.model.classifier.weight',
        'base_model.model.classifier.bias',
        'base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight',
      ]),
    );
  });

  it('classifies a pair as the softmax of the evaluator’s logits, as the run and as a kept adapter', async () => {
    const { rows, logits } = await opened.validationLogits();
    const tokenizer = tinyWordPiece();
    const encoder = new PairEncoder(tokenizer.tokenizerJson, tokenizer.tokenizerConfig);
    const row = rows[0];
    const input = things
      .flatMap((x) => things.map((y) => sentences(x, y)))
      .find((s) => encoder.encode(s.text, s.pair).ids.join() === row?.ids.join());
    if (!input) throw new Error('the first validation row is not one of the nine pairs');
    const classified = await client.classify({ kind: 'run', runId: 'cls' }, input);
    expect(classified.labels).toEqual(['0', '1']);
    expect(classified.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const expected = softmax64(logits.subarray(0, 2));
    classified.probabilities.forEach((p, k) => {
      expect(p).toBeCloseTo(expected[k] as number, 6);
    });

    const finished = events.find((e) => e.kind === 'run-finished');
    if (finished?.kind !== 'run-finished') throw new Error('no run-finished event');
    const kept = await client.classify(
      {
        kind: 'adapter',
        key: 'kept-lora',
        modelName: builtInClassifierName,
        modelFiles: builtInClassifierFiles(),
        adapterFiles: finished.files,
      },
      input,
    );
    kept.probabilities.forEach((p, k) => {
      expect(p).toBeCloseTo(expected[k] as number, 4);
    });
  });

  it('scores the run on its own validation split as its last evaluation did', async () => {
    const last = events.filter((e) => e.kind === 'eval').at(-1);
    if (last?.kind !== 'eval') throw new Error('no eval event');
    const { modelName, train, data, task } = spec;
    const scored = await client.evaluate(
      { kind: 'run', runId: 'cls' },
      { runId: 'cls', spec: { modelName, train, data, task } },
    );
    expect(scored.examples).toBe(16);
    expect(scored.loss).toBeCloseTo(last.loss, 5);
    expect(scored.classification).toEqual(last.classification);
    // The exported folder, opened on the base model as a kept adapter, scores the same split the same way.
    const finished = events.find((e) => e.kind === 'run-finished');
    if (finished?.kind !== 'run-finished') throw new Error('no run-finished event');
    const kept = await client.evaluate(
      {
        kind: 'adapter',
        key: 'kept-lora',
        modelName: builtInClassifierName,
        modelFiles: builtInClassifierFiles(),
        adapterFiles: finished.files,
      },
      { runId: 'cls', spec: { modelName, train, data, task } },
    );
    expect(kept.loss).toBeCloseTo(last.loss, 4);
    expect(kept.classification).toEqual(last.classification);
  });
});
