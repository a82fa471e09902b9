/**
 * The tokenizer.json a BERT-family checkpoint that ships only a slow-tokenizer vocab.txt would have:
 * the object transformers' BertTokenizerFast builds from that vocab (convert_slow_tokenizer's
 * BertConverter), so the one @huggingface/tokenizers path (PairEncoder) serves both kinds of folder.
 *
 * Contract (BertConverter, BertTokenizer's defaults, tokenizer_config.json overriding them):
 * - vocab.txt: one token a line, its id the line number (transformers' load_vocab reads it with Python's
 *   universal newlines, so \r\n and \r end a line too; a repeated token keeps its last line's id).
 * - BertNormalizer: clean_text; handle_chinese_chars = tokenize_chinese_chars (true); strip_accents as
 *   configured (null: follow lowercase); lowercase = do_lower_case (true).
 * - BertPreTokenizer; WordPiece with unk_token ("[UNK]"), "##" continuations, 100 chars per word at most.
 * - TemplateProcessing: [CLS] $A [SEP] (types 0) and $B [SEP] (types 1); the specials as added tokens.
 * A vocab without the [CLS], [SEP] or [UNK] token the template needs is a VocabTokenizerError.
 */
import { type ModelFiles, readJson, readText } from '../io/model-files';

export class VocabTokenizerError extends Error {
  override readonly name = 'VocabTokenizerError';
}

/** Slow tokenizers BertConverter turns into this layout (a vocab.txt of theirs is WordPiece as BERT's). */
const wordPieceTokenizerClasses = /^(Bert|DistilBert|Electra)Tokenizer(Fast)?$/;

type Json = Record<string, unknown>;

/** token → id, as transformers' load_vocab reads vocab.txt. */
export function parseVocabTxt(text: string): Map<string, number> {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop(); // the newline ending the last line starts no token
  const vocab = new Map<string, number>();
  for (const [id, token] of lines.entries()) vocab.set(token, id);
  return vocab;
}

/** A special token as tokenizer_config.json writes it: a string, or an AddedToken object with content. */
function tokenSetting(config: Json, key: string, fallback: string): string {
  const value = config[key];
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string')
    return (value as Json).content as string;
  return fallback;
}

function flag(config: Json, key: string, fallback: boolean): boolean {
  const value = config[key];
  return typeof value === 'boolean' ? value : fallback;
}

/** The tokenizer.json object BertTokenizerFast builds from `vocabText` and tokenizer_config.json. */
export function wordPieceTokenizerJson(
  vocabText: string,
  tokenizerConfig: object = {},
  source = 'vocab.txt',
) {
  const config = tokenizerConfig as Json;
  const tokenizerClass = config.tokenizer_class;
  if (typeof tokenizerClass === 'string' && !wordPieceTokenizerClasses.test(tokenizerClass))
    throw new VocabTokenizerError(
      `${source}: tokenizer_config.json names ${tokenizerClass}, whose vocab.txt Whetstone cannot read as BERT WordPiece. Add the model's tokenizer.json (save it with transformers' AutoTokenizer.from_pretrained(...).save_pretrained(dir)).`,
    );
  const vocab = parseVocabTxt(vocabText);
  const specials = {
    unk: tokenSetting(config, 'unk_token', '[UNK]'),
    sep: tokenSetting(config, 'sep_token', '[SEP]'),
    pad: tokenSetting(config, 'pad_token', '[PAD]'),
    cls: tokenSetting(config, 'cls_token', '[CLS]'),
    mask: tokenSetting(config, 'mask_token', '[MASK]'),
  };
  const idOf = (token: string) => {
    const id = vocab.get(token);
    if (id === undefined)
      throw new VocabTokenizerError(
        `${source} has no ${token} token, which the BERT tokenizer needs (${vocab.size} tokens read). Check that this is the model's WordPiece vocab.txt, or add its tokenizer.json.`,
      );
    return id;
  };
  const [clsId, sepId] = [idOf(specials.cls), idOf(specials.sep)];
  idOf(specials.unk);
  // The slow tokenizer's special tokens that are in the vocab become added tokens, in id order.
  const addedTokens = [...new Set(Object.values(specials))]
    .filter((token) => vocab.has(token))
    .map((content) => ({
      id: vocab.get(content) as number,
      special: true,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
    }))
    .sort((a, b) => a.id - b.id);
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const stripAccents = config.strip_accents;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: flag(config, 'tokenize_chinese_chars', true),
      strip_accents: typeof stripAccents === 'boolean' ? stripAccents : null,
      lowercase: flag(config, 'do_lower_case', true),
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(specials.cls, 0), sequence('A', 0), special(specials.sep, 0)],
      pair: [
        special(specials.cls, 0),
        sequence('A', 0),
        special(specials.sep, 0),
        sequence('B', 1),
        special(specials.sep, 1),
      ],
      special_tokens: {
        [specials.cls]: { id: specials.cls, ids: [clsId], tokens: [specials.cls] },
        [specials.sep]: { id: specials.sep, ids: [sepId], tokens: [specials.sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: specials.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}

/** Whether `files` hold a tokenizer Whetstone can read: tokenizer.json, or a WordPiece vocab.txt. */
export function hasEncoderTokenizer(files: Pick<ModelFiles, 'has'>): boolean {
  return files.has('tokenizer.json') || files.has('vocab.txt');
}

/**
 * The model's tokenizer.json and tokenizer_config.json: the files themselves, or, without tokenizer.json,
 * the one built from vocab.txt. Undefined when the folder has neither.
 */
export async function encoderTokenizerFiles(
  files: ModelFiles,
): Promise<{ tokenizerJson: unknown; tokenizerConfig: object } | undefined> {
  const tokenizerConfig = files.has('tokenizer_config.json')
    ? ((await readJson(files, 'tokenizer_config.json')) as object)
    : {};
  if (files.has('tokenizer.json'))
    return { tokenizerJson: await readJson(files, 'tokenizer.json'), tokenizerConfig };
  if (!files.has('vocab.txt')) return undefined;
  const vocabText = await readText(files, 'vocab.txt');
  return {
    tokenizerJson: wordPieceTokenizerJson(vocabText, tokenizerConfig, `${files.source}/vocab.txt`),
    tokenizerConfig,
  };
}
