/**
 * RoBERTa sentence pairs: <s> a </s></s> b </s>, every token type 0 (the Rust RobertaProcessing's "every
 * encoding is type_id=0"), byte-level BPE pieces, <pad> = 1, and longest_first truncation as tokenizers'
 * truncate_encodings cuts. A tiny tokenizer.json in roberta-base's exact layout (ByteLevel pre-tokenizer
 * without prefix space, a BPE model with a handful of merges, RobertaProcessing with sep ("</s>", 2) and
 * cls ("<s>", 0)) always runs; GPT-2's real byte-level BPE from ../shared/hf-fixtures runs when present.
 * Oracles: hand-written ids, @huggingface/tokenizers' own post-processor for the special-token layout, and
 * the length table of tokenizers' truncate_encodings unit test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { longestFirstLengths, PairEncoder } from './pair-encoder';

/** A roberta-base-shaped tokenizer.json over printable ASCII, with merges for "the", " cat", " hat", " sat". */
function tinyRobertaTokenizer() {
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const vocab: Record<string, number> = {};
  for (const token of specials) vocab[token] = Object.keys(vocab).length;
  // Byte-level alphabet: printable ASCII maps to itself, the space byte to Ġ (U+0120).
  for (let code = 33; code <= 126; code++) vocab[String.fromCharCode(code)] = Object.keys(vocab).length;
  vocab.Ġ = Object.keys(vocab).length;
  const merges = ['t h', 'th e', 'Ġ c', 'a t', 'Ġc at', 'Ġ h', 'Ġh at', 'Ġ s', 'Ġs at'];
  for (const merge of merges) vocab[merge.replace(' ', '')] = Object.keys(vocab).length;
  vocab['<mask>'] = Object.keys(vocab).length;
  const added = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: content === '<mask>',
    rstrip: false,
    normalized: content === '<mask>',
    special: true,
  });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...specials, '<mask>'].map((t) => added(vocab[t] as number, t)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
  const tokenizerConfig = {
    model_max_length: 512,
    bos_token: '<s>',
    eos_token: '</s>',
    sep_token: '</s>',
    cls_token: '<s>',
    unk_token: '<unk>',
    pad_token: '<pad>',
    mask_token: '<mask>',
  };
  return { tokenizerJson, tokenizerConfig, vocab };
}

describe('RoBERTa pairs on a tiny roberta-base-layout tokenizer', () => {
  const tiny = tinyRobertaTokenizer();
  const encoder = new PairEncoder(tiny.tokenizerJson, tiny.tokenizerConfig);
  const library = new Tokenizer(tiny.tokenizerJson as never, tiny.tokenizerConfig as never);
  const id = (token: string) => tiny.vocab[token];
  // Ids by construction: <s> 0, <pad> 1, </s> 2, 'a' 4 + (97 − 33) = 68, then Ġ 98 and the merges 99...
  const the = 100;
  const cat = 103; // Ġcat
  const hat = 105; // Ġhat
  const sat = 107; // Ġsat
  const a = 68;
  const space = 98; // Ġ alone

  it('builds ids as the vocabulary says they are', () => {
    const tokens = ['the', 'Ġcat', 'Ġhat', 'Ġsat', 'a', 'Ġ', '<pad>'];
    expect(tokens.map(id)).toEqual([the, cat, hat, sat, a, space, 1]);
  });

  it('encodes a pair as <s> a </s></s> b </s> with byte-level BPE pieces, all type 0', () => {
    const e = encoder.encode('the cat sat', 'a hat');
    expect(e.ids).toEqual([0, the, cat, sat, 2, 2, a, hat, 2]);
    expect(e.tokenTypes).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // The library's own RobertaProcessing gives the same layout.
    expect(library.encode('the cat sat', { text_pair: 'a hat' }).ids).toEqual(e.ids);
  });

  it('encodes a single text as <s> a </s>', () => {
    const e = encoder.encode('the hat');
    expect(e.ids).toEqual([0, the, hat, 2]);
    expect(e.tokenTypes).toEqual([0, 0, 0, 0]);
  });

  it('pads a batch with <pad> = 1, mask 0, type 0', () => {
    expect(encoder.padId).toBe(1);
    const batch = encoder.batch(
      [encoder.encode('the cat', 'a hat'), encoder.encode('the cat sat', 'a hat')],
      [0, 1],
    );
    expect(batch.ids[0]).toEqual([0, the, cat, 2, 2, a, hat, 2, 1]);
    expect(batch.attentionMask[0]).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0]);
    expect(batch.tokenTypes[0]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(batch.attentionMask[1]).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('truncates longest_first as tokenizers does, keeping the template', () => {
    // a: the Ġcat Ġsat Ġ the Ġcat (6 pieces); b: a Ġhat Ġ a Ġhat (5). maxLength 9 leaves 5: both are cut,
    // the shorter keeps ⌊5/2⌋ = 2 and the longer 3.
    const first = 'the cat sat the cat';
    const second = 'a hat a hat';
    const e = encoder.encode(first, second, 9);
    expect(e.ids).toEqual([0, the, cat, sat, 2, 2, a, hat, 2]);
    expect(e.tokenTypes).toEqual(new Array(9).fill(0));
    // The library's post-processor applied to the cut pieces: the same special-token layout.
    const tokens = (text: string, keep: number) => library.tokenize(text).slice(0, keep);
    const laidOut = library.post_processor?.post_process(tokens(first, 3), tokens(second, 2));
    expect(laidOut?.tokens.map((t) => library.token_to_id(t))).toEqual(e.ids);
    // Only the longer text cut: b keeps its 2 pieces, a the other 2 of the budget of 4.
    expect(encoder.encode(first, 'a hat', 8).ids).toEqual([0, the, cat, 2, 2, a, hat, 2]);
    // One text: cut to maxLength − 2.
    expect(encoder.encode(first, undefined, 5).ids).toEqual([0, the, cat, sat, 2]);
  });
});

describe('longestFirstLengths', () => {
  // tokenizers' truncate_encodings_longest_first test: max_length 7, lengths empty 0, short 2, medium 4,
  // long 8, and the lengths each pair keeps.
  it.each([
    [0, 0, 0, 0],
    [0, 2, 0, 2],
    [0, 4, 0, 4],
    [0, 8, 0, 7],
    [2, 0, 2, 0],
    [2, 2, 2, 2],
    [2, 4, 2, 4],
    [2, 8, 2, 5],
    [4, 0, 4, 0],
    [4, 2, 4, 2],
    [4, 4, 3, 4],
    [4, 8, 3, 4],
    [8, 0, 7, 0],
    [8, 2, 5, 2],
    [8, 4, 4, 3],
    [8, 8, 3, 4],
  ])('(%i, %i) within 7 keeps (%i, %i)', (n1, n2, keep1, keep2) => {
    expect(longestFirstLengths(n1, n2, 7)).toEqual([keep1, keep2]);
  });
});

const gpt2Dir = new URL('../../../../shared/hf-fixtures/gpt2/', import.meta.url).pathname;

describe.runIf(existsSync(`${gpt2Dir}tokenizer.json`))('GPT-2 byte-level BPE with RobertaProcessing', () => {
  it('gives the real vocabulary ids in the RoBERTa layout', () => {
    const json = JSON.parse(readFileSync(`${gpt2Dir}tokenizer.json`, 'utf8'));
    // GPT-2's only special token stands in for <s> and </s>.
    json.post_processor = {
      type: 'RobertaProcessing',
      sep: ['<|endoftext|>', 50256],
      cls: ['<|endoftext|>', 50256],
      trim_offsets: true,
      add_prefix_space: false,
    };
    const encoder = new PairEncoder(json, { pad_token: '<|endoftext|>' });
    // vocab.json: The 464, Ġcat 3797, Ġsat 3332, . 13, Hello 15496, Ġworld 995.
    const e = encoder.encode('The cat sat.', 'Hello world');
    expect(e.ids).toEqual([50256, 464, 3797, 3332, 13, 50256, 50256, 15496, 995, 50256]);
    expect(e.tokenTypes).toEqual(new Array(10).fill(0));
  });
});
