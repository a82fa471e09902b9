/**
 * `whetstone data` on preference files (prompt, chosen, rejected), with the tiny byte-level model's
 * tokenizer (one token per UTF-8 byte, BOS and EOS single ids, a ChatML template). Expected lengths are
 * worked out here from the bytes.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../train/fixtures/tiny-models';
import { runData } from './data';

const dir = mkdtempSync(join(tmpdir(), 'whetstone-data-preference-'));
const model = join(dir, 'model');
const bytes = (text: string) => new TextEncoder().encode(text).length;

function file(name: string, rows: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n'));
  return path;
}

async function data(...args: [string, string | boolean][]) {
  let out = '';
  await runData(Object.fromEntries(args), (text) => {
    out += text;
  });
  return out;
}

beforeAll(() => {
  mkdirSync(model, { recursive: true });
  for (const [name, content] of Object.entries(tinyModelFiles({ family: 'llama', seed: 3 })))
    writeFileSync(join(model, name), content);
});

describe('whetstone data on preference pairs', () => {
  it('standard pairs: the schema, prompt + chosen and prompt + rejected lengths, what DPO would cut and drop', async () => {
    const path = file('pairs.jsonl', [
      { prompt: 'The sky is', chosen: ' blue.', rejected: ' green, or so they say.' },
      { chosen: 'Two plus two is four.', rejected: 'Two plus two is three.' }, // implicit prompt
      { prompt: 'A prompt far too long for it', chosen: ' a', rejected: ' b' },
    ]);
    const report = JSON.parse(
      await data(['data', path], ['model', model], ['seq-len', '24'], ['json', true]),
    );
    expect(report).toMatchObject({
      schema: {
        kind: 'preference',
        detected: true,
        columns: { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected' },
      },
      rows: 3,
      bad_rows: 0,
      examples: 3,
    });
    expect(report.preview[1]).toMatchObject({
      prompt: 'Two plus two is',
      chosen: ' four.',
      rejected: ' three.',
    });
    // BOS + prompt + response + EOS
    const chosen = [
      bytes('The sky is blue.'),
      bytes('Two plus two is four.'),
      bytes('A prompt far too long for it a'),
    ].map((n) => n + 2);
    const rejected = [
      bytes('The sky is green, or so they say.'),
      bytes('Two plus two is three.'),
      bytes('A prompt far too long for it b'),
    ].map((n) => n + 2);
    expect(report.tokens).toMatchObject({
      count: 3,
      min: Math.min(...chosen),
      max: Math.max(...chosen),
      trained: bytes(' blue.') + bytes(' four.') + bytes(' a') + 3,
      template: 'none',
      truncated: chosen.filter((n) => n > 24).length,
      preference: {
        rejected: { count: 3, min: Math.min(...rejected), max: Math.max(...rejected) },
        truncated_pairs: 1, // the first pair's rejected side; the third is dropped (its prompt has 29 ids)
        dropped_pairs: 1,
      },
    });
    const readable = await data(['data', path], ['model', model], ['seq-len', '24']);
    expect(readable).toMatch(
      /schema: preference \(detected\): prompt = "prompt", chosen = "chosen", rejected = "rejected"/,
    );
    expect(readable).toMatch(/tokens per prompt \+ rejected response: min \d+/);
    expect(readable).toMatch(/DPO at --seq-len 24: 1 of 3 pairs would be truncated, 1 dropped/);
  });

  it('conversational pairs through the model’s ChatML template, and a bad row named by line', async () => {
    const turn = (role: string, content: string) => ({ role, content });
    const path = file('chat-pairs.jsonl', [
      {
        chosen: [turn('user', 'Hi'), turn('assistant', 'Hello!')],
        rejected: [turn('user', 'Hi'), turn('assistant', 'Go away.')],
      },
      { chosen: [turn('user', 'Hi')], rejected: 'text' },
    ]);
    const report = JSON.parse(await data(['data', path], ['model', model], ['json', true]));
    expect(report).toMatchObject({ schema: { kind: 'preference' }, rows: 2, bad_rows: 1, examples: 1 });
    expect(report.bad_row_samples[0]).toMatchObject({ line: 2, error: 'DatasetRowError' });
    expect(report.bad_row_samples[0].detail).toMatch(/"rejected" is text but "chosen" is a list of messages/);
    const chatml = (answer: string) =>
      `<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n${answer}<|im_end|>\n`;
    expect(report.tokens).toMatchObject({
      min: bytes(chatml('Hello!')),
      trained: bytes('Hello!<|im_end|>\n'),
      template: 'model',
      preference: { rejected: { min: bytes(chatml('Go away.')) } },
    });
  });
});
