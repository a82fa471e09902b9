/**
 * Preference examples into the pairs the DPO trainer consumes, as TRL's DPOTrainer._prepare_dataset
 * builds them (tokenize_fn, then its collator's truncation):
 * - standard (strings): prompt_ids = tokenize(prompt), with the tokenizer's own special tokens; each
 *   response is tokenized jointly with the prompt, tokenize(prompt + response), with EOS appended unless
 *   already last (TRL's add_eos appends the EOS text; here the model's EOS id, as tokenize-examples.ts does
 *   for prompt-completion); its completion is the tail after len(prompt_ids).
 * - conversational (message lists): prompt_ids = the prompt rendered by the chat template with the
 *   generation prompt, each response = the tail of render(prompt + response) after len(prompt_ids), both
 *   tokenized as apply_chat_template(tokenize=True) does (chat-render.ts, no EOS added: the template ends turns).
 * Each side is {ids: prompt_ids + completion_ids, labels: -100 over the prompt, the ids over the completion}.
 * Where prompt_ids are not the start of tokenize(prompt + response) (a merge across the boundary, a
 * template that rewrites earlier turns) TRL warns and keeps the lengths; here the pair is counted in
 * `boundaryMismatches`. Truncation is TRL's max_length with truncation_mode "keep_start": each side is cut
 * to maxLength, and a pair whose prompt alone fills maxLength is dropped (it would train on nothing).
 */
import type { TokenExample } from '../batches';
import type { PreferencePair } from '../preference/pairs';
import type { ChatMessage } from '../text/tokenizer';
import type { ChatRendering } from './chat-render';
import {
  type ConversationalPreference,
  isConversationalPreference,
  type PreferenceExample,
  type StandardPreference,
} from './examples';
import { tokenizeText } from './text-batches';
import {
  chatRenderingOf,
  chatTemplateRefusal,
  type DatasetTokenizer,
  encodeRendered,
} from './tokenize-examples';

export interface PreferenceTokenizeOptions {
  /** TRL's max_length (our sequence length): each side is cut to it; Infinity keeps everything. */
  maxLength: number;
  /** The model's EOS id, appended to standard responses that do not already end with it. */
  eosTokenId?: number;
}

export interface TokenizedPair extends PreferencePair {
  chosen: TokenExample & { labels: number[] };
  rejected: TokenExample & { labels: number[] };
  /** Where the pair came from in the file. */
  line: number;
  /** Token counts before truncation: the prompt, and each side with the prompt. */
  lengths: { prompt: number; chosen: number; rejected: number };
  truncated: boolean;
  boundaryMismatch: boolean;
}

export interface TokenizedPreferences {
  pairs: TokenizedPair[];
  /** Pairs with a side cut to maxLength. */
  truncated: number;
  /** Pairs left out because their prompt alone fills maxLength. */
  dropped: number;
  boundaryMismatches: number;
  /** The chat template conversational pairs went through ('none' when there were none). */
  template: 'model' | 'fallback' | 'none';
}

interface EncodedPair {
  prompt: number[];
  /** tokenize(prompt + chosen) and tokenize(prompt + rejected), whole. */
  chosen: number[];
  rejected: number[];
}

const startsWith = (ids: readonly number[], prefix: readonly number[]) =>
  prefix.length <= ids.length && prefix.every((id, i) => ids[i] === id);

function encodeStandard(
  example: StandardPreference,
  tokenizer: DatasetTokenizer,
  eosTokenId: number | undefined,
): EncodedPair {
  const encode = (text: string) => tokenizer.encode(text);
  const joint = (response: string) =>
    tokenizeText(encode, example.prompt + response, eosTokenId, Number.POSITIVE_INFINITY).ids;
  return { prompt: encode(example.prompt), chosen: joint(example.chosen), rejected: joint(example.rejected) };
}

function encodeConversational(
  example: ConversationalPreference,
  tokenizer: DatasetTokenizer,
  rendering: ChatRendering,
): EncodedPair {
  const encode = (text: string) => encodeRendered(tokenizer, rendering, text);
  let promptText = '';
  try {
    promptText = rendering.render(example.prompt, true);
  } catch (error) {
    // Some templates index messages[0] and fail on an empty conversation: the responses start at 0.
    if (example.prompt.length) throw chatTemplateRefusal(example.line, example.prompt, error);
  }
  const joint = (response: ChatMessage[]) => {
    const messages = [...example.prompt, ...response];
    try {
      return encode(rendering.render(messages, false));
    } catch (error) {
      throw chatTemplateRefusal(example.line, messages, error);
    }
  };
  return {
    prompt: promptText ? encode(promptText) : [],
    chosen: joint(example.chosen),
    rejected: joint(example.rejected),
  };
}

/** One side: the prompt's ids then the response's tail after len(prompt), labels -100 over the prompt. */
function side(prompt: readonly number[], joint: readonly number[], maxLength: number) {
  const completion = joint.slice(prompt.length);
  const ids = [...prompt, ...completion].slice(0, maxLength);
  const labels = ids.map((id, i) => (i < prompt.length ? -100 : id));
  return { ids, labels };
}

export function tokenizePreferences(
  examples: readonly PreferenceExample[],
  tokenizer: DatasetTokenizer,
  options: PreferenceTokenizeOptions,
): TokenizedPreferences {
  const { maxLength, eosTokenId } = options;
  let rendering: ChatRendering | undefined;
  const result: TokenizedPreferences = {
    pairs: [],
    truncated: 0,
    dropped: 0,
    boundaryMismatches: 0,
    template: 'none',
  };
  for (const example of examples) {
    let encoded: EncodedPair;
    if (isConversationalPreference(example)) {
      rendering ??= chatRenderingOf(tokenizer, eosTokenId);
      encoded = encodeConversational(example, tokenizer, rendering);
    } else encoded = encodeStandard(example, tokenizer, eosTokenId);
    const { prompt } = encoded;
    if (prompt.length >= maxLength) {
      result.dropped++;
      continue;
    }
    const lengths = {
      prompt: prompt.length,
      chosen: prompt.length + Math.max(0, encoded.chosen.length - prompt.length),
      rejected: prompt.length + Math.max(0, encoded.rejected.length - prompt.length),
    };
    const truncated = lengths.chosen > maxLength || lengths.rejected > maxLength;
    const boundaryMismatch = !startsWith(encoded.chosen, prompt) || !startsWith(encoded.rejected, prompt);
    if (truncated) result.truncated++;
    if (boundaryMismatch) result.boundaryMismatches++;
    result.pairs.push({
      chosen: side(prompt, encoded.chosen, maxLength),
      rejected: side(prompt, encoded.rejected, maxLength),
      line: example.line,
      lengths,
      truncated,
      boundaryMismatch,
    });
  }
  if (rendering) result.template = rendering.fallback ? 'fallback' : 'model';
  return result;
}
