/**
 * Preference pairs as TRL's DPOTrainer tokenizes them (prompt ids, each response's tail after them, EOS
 * on standard responses, the chat template on conversational ones, keep_start truncation and dropping),
 * the seeded split, SFT on the chosen response, the summary, and the classifier's refusal. Expected ids
 * are written out from the characters (CharTokenizer: one id per character, BOS 1, EOS 2).
 */
import { describe, expect, it } from 'vitest';
import { ClassificationDataError, classificationLabelSet } from '../classify/classification-data';
import { DatasetTaskError } from './errors';
import type { Example, PreferenceExample } from './examples';
import { DatasetRowError } from './jsonl';
import { loadDataset } from './load-dataset';
import { isPreferenceDataset, preparePreferenceData } from './preference-data';
import { splitTrainValidation } from './split';
import { summarizeLoaded } from './summary';
import { BOS, bytesOf, CHATML, CharTokenizer, EOS, trainedText } from './testing/char-tokenizer';
import { tokenizeExamples } from './tokenize-examples';
import { tokenizePreferences } from './tokenize-preferences';
import { prepareTrainingData } from './training-data';

const chars = (text: string) => [...text].map((c) => c.codePointAt(0) as number);
const masked = (n: number) => Array(n).fill(-100);
const pair = (prompt: string, chosen: string, rejected: string, line = 1): PreferenceExample => ({
  kind: 'preference',
  line,
  prompt,
  chosen,
  rejected,
});
const talk = (prompt: string, chosen: string, rejected: string): PreferenceExample => ({
  kind: 'preference',
  line: 1,
  prompt: [{ role: 'user', content: prompt }],
  chosen: [{ role: 'assistant', content: chosen }],
  rejected: [{ role: 'assistant', content: rejected }],
});
const tokenize = (examples: PreferenceExample[], tokenizer = new CharTokenizer(), maxLength = 100) =>
  tokenizePreferences(examples, tokenizer, { maxLength, eosTokenId: EOS });
const load = (rows: unknown[], name = 'p.jsonl') =>
  loadDataset(name, bytesOf(rows.map((r) => JSON.stringify(r)).join('\n')));

describe('standard pairs', () => {
  it('prompt ids, then each response jointly tokenized with EOS appended; labels -100 exactly over the prompt', () => {
    const result = tokenize([pair('Q:', ' A', ' BB')]);
    const prompt = [BOS, ...chars('Q:')];
    expect(result.pairs[0]).toMatchObject({
      chosen: { ids: [...prompt, ...chars(' A'), EOS], labels: [...masked(3), ...chars(' A'), EOS] },
      rejected: { ids: [...prompt, ...chars(' BB'), EOS], labels: [...masked(3), ...chars(' BB'), EOS] },
      line: 1,
      lengths: { prompt: 3, chosen: 6, rejected: 7 },
      truncated: false,
      boundaryMismatch: false,
    });
    expect(result).toMatchObject({ truncated: 0, dropped: 0, boundaryMismatches: 0, template: 'none' });
  });

  it('appends EOS once: not to a response already ending with it, nor without an EOS id', () => {
    const [ended] = tokenize([pair('Q', 'A</s>', 'B')]).pairs;
    expect(ended?.chosen.ids).toEqual([BOS, ...chars('QA'), EOS]);
    const [none] = tokenizePreferences([pair('Q', 'A', 'B')], new CharTokenizer(), { maxLength: 10 }).pairs;
    expect(none?.chosen.ids).toEqual([BOS, ...chars('QA')]);
  });

  it('keeps TRL’s lengths where the prompt’s ids are not the start of the joint ids, and counts it', () => {
    // "a<" + "/s>" tokenizes jointly as [BOS, a, EOS]: its tail after the 3 prompt ids is empty.
    const result = tokenize([pair('a<', '/s>', 'b')]);
    expect(result.pairs[0]?.chosen).toEqual({ ids: [BOS, ...chars('a<')], labels: masked(3) });
    expect(result.pairs[0]?.rejected.ids).toEqual([BOS, ...chars('a<b'), EOS]);
    expect(result.boundaryMismatches).toBe(1);
  });

  it('cuts each side to maxLength (keep_start) and drops pairs whose prompt alone fills it', () => {
    const result = tokenize(
      [
        pair('Q', ' long answer', ' no', 1),
        pair('1234', 'a', 'b', 2), // BOS + 4 = 5 prompt ids: fills maxLength, dropped
        pair('123', 'a', 'b', 3), // 4 prompt ids: kept, with one response token
      ],
      undefined,
      5,
    );
    expect(result.pairs.map((p) => p.line)).toEqual([1, 3]);
    expect(result.pairs[0]).toMatchObject({
      chosen: { ids: [BOS, ...chars('Q lo')], labels: [...masked(2), ...chars(' lo')] },
      rejected: { ids: [BOS, ...chars('Q no')], labels: [...masked(2), ...chars(' no')] },
      lengths: { prompt: 2, chosen: 15, rejected: 6 },
      truncated: true,
    });
    expect(result.pairs[1]?.chosen).toEqual({
      ids: [BOS, ...chars('123a')],
      labels: [...masked(4), ...chars('a')],
    });
    expect(result).toMatchObject({ truncated: 2, dropped: 1 });
  });
});

describe('conversational pairs', () => {
  it('renders the prompt with the generation prompt, each side whole; trains only the response’s turn', () => {
    const tokenizer = new CharTokenizer(CHATML);
    const result = tokenize([talk('Hi', 'Yo', 'No')], tokenizer);
    const prompt = tokenizer.encode('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n', {
      addSpecialTokens: false,
    });
    const chosen = result.pairs[0]!.chosen;
    expect(chosen.ids).toEqual(
      tokenizer.encode('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n', {
        addSpecialTokens: false,
      }),
    );
    expect(chosen.labels.slice(0, prompt.length)).toEqual(masked(prompt.length));
    expect(trainedText(tokenizer, chosen.ids, chosen.labels)).toEqual(['Yo<|im_end|>\n']);
    const rejected = result.pairs[0]!.rejected;
    expect(trainedText(tokenizer, rejected.ids, rejected.labels)).toEqual(['No<|im_end|>\n']);
    expect(result.template).toBe('model');
  });

  it('through the fallback template: EOS written once by the template, BOS added by the tokenizer', () => {
    const tokenizer = new CharTokenizer();
    const result = tokenize([talk('Hi', 'Yo', 'No')], tokenizer);
    const chosen = result.pairs[0]!.chosen;
    expect(chosen.ids).toEqual(tokenizer.encode('### User:\nHi\n\n### Assistant:\nYo</s>'));
    expect(trainedText(tokenizer, chosen.ids, chosen.labels)).toEqual(['Yo</s>']);
    expect(result.template).toBe('fallback');
  });

  it('names the line when the model’s template refuses the conversation', () => {
    const strict = new CharTokenizer(
      "{%- if messages[0]['role'] != 'system' -%}{{ raise_exception('system first') }}{%- endif -%}x",
    );
    expect(() => tokenize([talk('Hi', 'Yo', 'No')], strict)).toThrow(DatasetRowError);
    expect(() => tokenize([talk('Hi', 'Yo', 'No')], strict)).toThrow(
      /line 1: the model's chat template refused/,
    );
  });
});

describe('preparePreferenceData', () => {
  const rows = Array.from({ length: 8 }, (_, i) => ({
    prompt: `P${i}`,
    chosen: ` c${i}`,
    rejected: ` r${i}`,
  }));

  it('splits the examples the seeded way prepareTrainingData does, then tokenizes each side', async () => {
    const dataset = await load(rows);
    expect(isPreferenceDataset(dataset)).toBe(true);
    const tokenizer = new CharTokenizer();
    const data = preparePreferenceData(dataset, tokenizer, {
      seqLen: 64,
      eosTokenId: EOS,
      validationFraction: 0.25,
      seed: 7,
    });
    const split = splitTrainValidation(dataset.examples as PreferenceExample[], {
      validationFraction: 0.25,
      seed: 7,
    });
    const pairs = (examples: PreferenceExample[]) =>
      tokenize(examples, tokenizer, 64).pairs.map(({ chosen, rejected }) => ({ chosen, rejected }));
    expect(data.validation).toHaveLength(2);
    expect(data.train).toEqual(pairs(split.train));
    expect(data.validation).toEqual(pairs(split.validation));
    // The same examples land in validation as for SFT on the same file and seed.
    const sft = prepareTrainingData(dataset, tokenizer, {
      seqLen: 64,
      eosTokenId: EOS,
      validationFraction: 0.25,
      seed: 7,
    });
    expect(sft.validation.map((e) => e.ids)).toEqual(data.validation.map((p) => p.chosen.ids));
    expect(data).toMatchObject({ truncated: 0, dropped: 0, template: 'none' });
  });

  it('uses a validation file as it is, and refuses a dataset without preference pairs', async () => {
    const dataset = await load(rows);
    const validation = await load(rows.slice(0, 3), 'v.jsonl');
    const data = preparePreferenceData(dataset, new CharTokenizer(), { seqLen: 64, validation });
    expect([data.train.length, data.validation.length]).toEqual([8, 3]);
    const chat = await load(
      [
        {
          messages: [
            { role: 'user', content: 'a' },
            { role: 'assistant', content: 'b' },
          ],
        },
      ],
      'c.jsonl',
    );
    expect(isPreferenceDataset(chat)).toBe(false);
    expect(() => preparePreferenceData(chat, new CharTokenizer(), { seqLen: 64 })).toThrow(DatasetTaskError);
    expect(() => preparePreferenceData(chat, new CharTokenizer(), { seqLen: 64 })).toThrow(
      /c\.jsonl was read as "chat" rows \(line 1\); preference training \(DPO\) needs/,
    );
  });
});

describe('SFT and the other consumers of a preference dataset', () => {
  it('SFT trains on the prompt followed by the chosen response, the prompt masked', () => {
    const examples: Example[] = [pair('Q:', ' A', ' B'), talk('Hi', 'Yo', 'No')];
    const tokenizer = new CharTokenizer(CHATML);
    const { examples: tokenized } = tokenizeExamples(examples, tokenizer, {
      maxLength: 100,
      eosTokenId: EOS,
    });
    expect(tokenized[0]).toMatchObject({
      ids: [BOS, ...chars('Q: A'), EOS],
      labels: [...masked(3), ...chars(' A'), EOS],
    });
    expect(trainedText(tokenizer, tokenized[1]!.ids, tokenized[1]!.labels)).toEqual(['Yo<|im_end|>\n']);
  });

  it('the classifier refuses it by name', async () => {
    const dataset = await load([{ prompt: 'p', chosen: 'a', rejected: 'b' }]);
    expect(() => classificationLabelSet(dataset)).toThrow(ClassificationDataError);
    expect(() => classificationLabelSet(dataset)).toThrow(/read as "preference" rows/);
  });

  it('the summary: prompt + chosen lengths, prompt + rejected lengths, and what DPO would cut and drop', async () => {
    const dataset = await load([
      { prompt: 'Q', chosen: ' a', rejected: ' bbbbbbbb' },
      { prompt: 'long prompt', chosen: ' a', rejected: ' b' },
    ]);
    const summary = summarizeLoaded(dataset, new CharTokenizer(), { eosTokenId: EOS, maxLength: 8 });
    expect(summary.schema.kind).toBe('preference');
    expect(summary.tokens).toMatchObject({
      min: 5, // BOS Q ' ' a EOS
      max: 15,
      trained: 3 + 3,
      overMaxLength: 1,
      preference: { rejected: { min: 12, max: 15 }, truncatedPairs: 1, droppedPairs: 1 },
    });
  });
});
