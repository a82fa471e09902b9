/**
 * The tokenizer built from vocab.txt is BertTokenizerFast's: against bert-base-uncased's real
 * tokenizer.json (../shared/hf-fixtures, which has both files) on strings that exercise every stage, and
 * always against the tiny WordPiece fixture with ids worked out by hand.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tinyWordPiece } from '../fixtures/tiny-wordpiece';
import { filesFromMemory } from '../io/model-files';
import { ClassifierFilesError, pairEncoderFor } from './classifier-folder';
import { PairEncoder } from './pair-encoder';
import { parseVocabTxt, VocabTokenizerError, wordPieceTokenizerJson } from './wordpiece-from-vocab';

const bertDir = new URL('../../../../shared/hf-fixtures/bert-base-uncased/', import.meta.url).pathname;

describe.runIf(existsSync(bertDir))('bert-base-uncased vocab.txt (../shared/hf-fixtures)', () => {
  const read = (name: string) => readFileSync(`${bertDir}${name}`, 'utf8');

  it('builds the tokenizer.json BertTokenizerFast saves, and encodes exactly as it', async () => {
    const real = JSON.parse(read('tokenizer.json'));
    const config = JSON.parse(read('tokenizer_config.json'));
    const built = wordPieceTokenizerJson(read('vocab.txt'), config);
    // The saved file predates the model's "type" key; everything else must match, vocab included.
    expect({ ...built, model: { ...built.model, type: undefined } }).toEqual({
      ...real,
      model: { ...real.model, type: undefined },
    });

    const fromVocab = await pairEncoderFor(
      filesFromMemory({
        'vocab.txt': read('vocab.txt'),
        'tokenizer_config.json': read('tokenizer_config.json'),
      }),
    );
    const fromJson = new PairEncoder(real, config);
    const longWord = 'x'.repeat(101); // past max_input_chars_per_word: one [UNK]
    const cases: [string, string?][] = [
      ['Héllo, Wörld! Crème brûlée à la façon de Zoë.'],
      ['北京欢迎你 and 東京 mixed with ASCII', 'ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ'],
      ["Don't stop-believing... (ok?) [CLS] inside [SEP] text"],
      [`${longWord} ${'y'.repeat(100)} done`],
      ['qzxjvwq unaffable transformerization', 'tab\there\u0000control\u200bzero-width'],
      ['Ελληνικά και русский текст', 'emoji 😀 🤖 ok'],
      ['', 'second only'],
    ];
    for (const [a, b] of cases) {
      const got = fromVocab.encode(a, b);
      expect(got, `${a} | ${b}`).toEqual(fromJson.encode(a, b));
    }
    // The long word and the unknown characters really went to [UNK] (id 100).
    expect(fromVocab.encode(`${longWord} done`).ids).toEqual([101, 100, 2589, 102]);
    expect(fromVocab.padId).toBe(0);
  });
});

describe('tiny vocab.txt', () => {
  const tiny = tinyWordPiece();
  const vocabText = `${tiny.vocab.join('\n')}\n`;

  it('gives the fixture tokenizer.json and hand-worked ids', async () => {
    expect(wordPieceTokenizerJson(vocabText, tiny.tokenizerConfig)).toEqual(tiny.tokenizerJson);
    const encoder = await pairEncoderFor(filesFromMemory({ 'vocab.txt': vocabText }));
    const id = (token: string) => tiny.vocab.indexOf(token);
    // "Cats" lowercases; "cats" is no token, so WordPiece takes "cat" then "##s"; "Ünder" loses its accent.
    const e = encoder.encode('The Cats', 'Ünder');
    expect(e.ids).toEqual([
      tiny.clsId,
      id('the'),
      id('cat'),
      id('##s'),
      tiny.sepId,
      id('u'),
      id('##n'),
      id('##d'),
      id('##e'),
      id('##r'),
      tiny.sepId,
    ]);
    expect(e.tokenTypes).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(encoder.encode('ü%').ids).toEqual([tiny.clsId, id('u'), id('[UNK]'), tiny.sepId]);
  });

  it('keeps case when do_lower_case is false, and reads CRLF lines and repeated tokens as load_vocab does', () => {
    const cased = wordPieceTokenizerJson(vocabText, { do_lower_case: false });
    expect(cased.normalizer.lowercase).toBe(false);
    const vocab = parseVocabTxt('[PAD]\r\n[UNK]\r\nab\nab\n');
    expect([...vocab]).toEqual([
      ['[PAD]', 0],
      ['[UNK]', 1],
      ['ab', 3],
    ]);
  });

  it('names what is missing', async () => {
    expect(() => wordPieceTokenizerJson('[PAD]\n[UNK]\n[SEP]\n', {}, 'm/vocab.txt')).toThrow(
      new VocabTokenizerError(
        "m/vocab.txt has no [CLS] token, which the BERT tokenizer needs (3 tokens read). Check that this is the model's WordPiece vocab.txt, or add its tokenizer.json.",
      ),
    );
    expect(() => wordPieceTokenizerJson(vocabText, { tokenizer_class: 'XLNetTokenizer' })).toThrow(
      /names XLNetTokenizer/,
    );
    await expect(pairEncoderFor(filesFromMemory({ 'config.json': '{}' }, 'dir'))).rejects.toThrow(
      new ClassifierFilesError(
        "dir has neither tokenizer.json nor vocab.txt; Whetstone needs one of them. Add the model's tokenizer.json.",
      ),
    );
  });
});
