/**
 * Sentence-pair encoding as HF's tokenizers give it: [CLS] a [SEP] b [SEP] with token types 0…0 1…1,
 * longest_first truncation, right padding; against bert-base-uncased's real tokenizer.json when
 * ../shared/hf-fixtures is there, and against the tiny WordPiece fixture always.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tinyWordPiece } from '../fixtures/tiny-wordpiece';
import { PairEncoder, PairEncodingError } from './pair-encoder';

const bertDir = new URL('../../../../shared/hf-fixtures/bert-base-uncased/', import.meta.url).pathname;

describe.runIf(existsSync(bertDir))('bert-base-uncased (../shared/hf-fixtures)', () => {
  const encoder = () =>
    new PairEncoder(
      JSON.parse(readFileSync(`${bertDir}tokenizer.json`, 'utf8')),
      JSON.parse(readFileSync(`${bertDir}tokenizer_config.json`, 'utf8')),
    );

  it('encodes a pair as [CLS] a [SEP] b [SEP] with the vocabulary ids and types 0/1', () => {
    // vocab.txt: [CLS] 101, [SEP] 102, the 1996, cat 4937, sat 2938, . 1012, hello 7592, world 2088.
    const e = encoder().encode('The cat sat.', 'Hello world');
    expect(e.ids).toEqual([101, 1996, 4937, 2938, 1012, 102, 7592, 2088, 102]);
    expect(e.tokenTypes).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1]);
  });

  it('encodes a single sentence as [CLS] a [SEP], all type 0', () => {
    const e = encoder().encode('hello world');
    expect(e.ids).toEqual([101, 7592, 2088, 102]);
    expect(e.tokenTypes).toEqual([0, 0, 0, 0]);
  });

  it('truncates longest_first: tokens leave the longer text first, the template stays', () => {
    // a has 4 pieces, b has 2; maxLength 7 leaves 4 for text: a loses 2.
    const e = encoder().encode('The cat sat.', 'Hello world', 7);
    expect(e.ids).toEqual([101, 1996, 4937, 102, 7592, 2088, 102]);
    expect(e.tokenTypes).toEqual([0, 0, 0, 0, 1, 1, 1]);
  });
});

describe('the tiny WordPiece fixture', () => {
  const tiny = tinyWordPiece();
  const encoder = new PairEncoder(tiny.tokenizerJson, tiny.tokenizerConfig);
  const id = (token: string) => tiny.vocab.indexOf(token);

  it('splits unknown words into ## pieces and builds the pair template', () => {
    const e = encoder.encode('The cats', 'a dog');
    expect(e.ids).toEqual([
      tiny.clsId,
      id('the'),
      id('cat'),
      id('##s'),
      tiny.sepId,
      id('a'),
      id('dog'),
      tiny.sepId,
    ]);
    expect(e.tokenTypes).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
  });

  it('pads a batch on the right with [PAD], mask 0 and type 0', () => {
    const batch = encoder.batch(
      [encoder.encode('cat', 'dog'), encoder.encode('the cat sat', 'on the mat')],
      [0, 1],
    );
    const T = batch.ids[1]?.length as number;
    expect(batch.ids[0]).toEqual([
      tiny.clsId,
      id('cat'),
      tiny.sepId,
      id('dog'),
      tiny.sepId,
      ...Array(T - 5).fill(tiny.padId),
    ]);
    expect(batch.attentionMask[0]).toEqual([1, 1, 1, 1, 1, ...Array(T - 5).fill(0)]);
    expect(batch.tokenTypes[0]).toEqual([0, 0, 0, 1, 1, ...Array(T - 5).fill(0)]);
    expect(batch.labels).toEqual([0, 1]);
  });

  it('refuses a maxLength with no room for text', () => {
    expect(() => encoder.encode('cat', 'dog', 3)).toThrow(PairEncodingError);
  });
});
