/**
 * Examples into token examples {ids, labels}, labels -100 where the model is not trained, as TRL's
 * SFTTrainer builds them:
 * - text: the tokenizer's own special tokens, EOS appended unless already last (tokenizeText); all trained.
 * - prompt-completion (strings): ids of prompt + completion, EOS appended; with prompt masking the first
 *   len(tokenize(prompt)) labels are -100 (TRL's completion_only_loss, its default for this shape).
 * - chat: the conversation rendered by the chat template (or the fallback, chat-render.ts) and tokenized
 *   without adding special tokens, as apply_chat_template(tokenize=True) does (the template writes them;
 *   with the fallback the tokenizer adds them, as for plain text). With prompt masking, EVERY assistant
 *   turn is trained, not only the last (TRL's assistant_only_loss): turn i spans from
 *   len(tokenize(render(messages[:i], add_generation_prompt=True))) to len(tokenize(render(messages[:i+1]))).
 *   For the last turn that is TRL's completion-only prompt, rendered up to the last assistant turn with
 *   the generation prompt. A span ends where the template's rendering of that turn ends, so it includes
 *   what the template writes after the content (ChatML's "<|im_end|>\n", Llama-2 chat's "</s>\n"). A conversational prompt-completion row trains only turns from its completion on.
 *   Where a rendered or tokenized prefix is not a prefix of the whole (a template that rewrites earlier
 *   turns, a merge across the boundary), the lengths are still used, as TRL does, and the example is
 *   counted in `boundaryMismatches`.
 * - preference: SFT before DPO trains on the prompt and the chosen response (chosenAsCompletion), as a
 *   prompt-completion example or a conversational prompt-completion one; the rejected response is unused.
 * Without prompt masking every token is trained. Examples longer than `maxLength` are cut and counted.
 */
import type { TokenExample } from '../batches';
import type { ChatMessage } from '../text/tokenizer';
import { type ChatRendering, type ChatTemplateSource, chatRenderer } from './chat-render';
import { DatasetTaskError } from './errors';
import { chosenAsCompletion, type Example } from './examples';
import { DatasetRowError } from './jsonl';
import { tokenizeText } from './text-batches';

/** The part of ModelTokenizer that turning examples into tokens needs. */
export interface DatasetTokenizer extends ChatTemplateSource {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
}

export interface TokenizeOptions {
  /** The sequence length: longer examples are cut to it (and counted) unless `truncate` is false. */
  maxLength: number;
  /** Train only on completions and assistant turns (default true). */
  maskPrompt?: boolean;
  /** The model's EOS id (generation_config / config), appended to text and completions. */
  eosTokenId?: number;
  /** Default true; packing and whole-text chunking turn it off, as they cut rows themselves. */
  truncate?: boolean;
}

export interface TokenizedExample extends TokenExample {
  labels: number[];
  /** Where the example came from in the file. */
  line: number;
  /** Length before truncation. */
  length: number;
  truncated: boolean;
  boundaryMismatch: boolean;
}

export interface TokenizedExamples {
  examples: TokenizedExample[];
  truncated: number;
  /** Examples left with no trained label (a prompt longer than maxLength): they add nothing to the loss. */
  untrained: number;
  boundaryMismatches: number;
  /** Which chat template chat examples went through ('none' when there were none). */
  template: 'model' | 'fallback' | 'none';
}

const startsWith = (ids: readonly number[], prefix: readonly number[]) =>
  prefix.length <= ids.length && prefix.every((id, i) => ids[i] === id);

interface Encoded {
  ids: number[];
  labels: number[];
  boundaryMismatch: boolean;
}

function encodeChat(
  messages: ChatMessage[],
  trainFrom: number,
  tokenizer: DatasetTokenizer,
  rendering: ChatRendering,
  maskPrompt: boolean,
): Encoded {
  const encode = (text: string) => encodeRendered(tokenizer, rendering, text);
  const full = rendering.render(messages, false);
  const ids = encode(full);
  if (!maskPrompt) return { ids, labels: [...ids], boundaryMismatch: false };
  const labels = ids.map(() => -100);
  let boundaryMismatch = false;
  messages.forEach((message, i) => {
    if (i < trainFrom || message.role !== 'assistant') return;
    let before = '';
    try {
      before = rendering.render(messages.slice(0, i), true);
    } catch {
      // Some templates index messages[0] and fail on an empty conversation: the turn starts at 0.
    }
    const through = rendering.render(messages.slice(0, i + 1), false);
    const start = before ? encode(before) : [];
    const end = encode(through);
    if (
      !full.startsWith(before) ||
      !full.startsWith(through) ||
      !startsWith(ids, end) ||
      !startsWith(end, start)
    )
      boundaryMismatch = true;
    for (let t = start.length; t < Math.min(end.length, ids.length); t++) labels[t] = ids[t] as number;
  });
  return { ids, labels, boundaryMismatch };
}

function encodeExample(
  example: Example,
  tokenizer: DatasetTokenizer,
  options: TokenizeOptions,
  chat: () => ChatRendering,
): Encoded {
  const maskPrompt = options.maskPrompt ?? true;
  const encode = (text: string) => tokenizer.encode(text);
  switch (example.kind) {
    case 'text': {
      const { ids } = tokenizeText(encode, example.text, options.eosTokenId, Number.POSITIVE_INFINITY);
      return { ids, labels: [...ids], boundaryMismatch: false };
    }
    case 'prompt-completion': {
      const prompt = encode(example.prompt);
      const text = example.prompt + example.completion;
      const { ids } = tokenizeText(encode, text, options.eosTokenId, Number.POSITIVE_INFINITY);
      const labels = ids.map((id, i) => (maskPrompt && i < prompt.length ? -100 : id));
      return { ids, labels, boundaryMismatch: !startsWith(ids, prompt) };
    }
    case 'chat':
      return encodeChat(example.messages, example.trainFrom, tokenizer, chat(), maskPrompt);
    case 'preference':
      return encodeExample(chosenAsCompletion(example), tokenizer, options, chat);
    case 'classification':
      throw new DatasetTaskError(
        `Line ${example.line} is a classification example (text and label): it trains a classifier head, ` +
          'not a language model. Choose the text, prompt/completion or chat schema to train on it as text.',
      );
  }
}

/** The chat rendering of a tokenizer: its own template, or the fallback with the model's EOS as text. */
export function chatRenderingOf(tokenizer: DatasetTokenizer, eosTokenId: number | undefined): ChatRendering {
  // The fallback writes EOS as text; a tokenizer_config without eos_token (GPT-2) still has the id.
  const eosToken =
    tokenizer.eosToken ?? (eosTokenId === undefined ? undefined : tokenizer.decode([eosTokenId]));
  return chatRenderer({
    hasChatTemplate: tokenizer.hasChatTemplate,
    applyChatTemplate: (messages, o) => tokenizer.applyChatTemplate(messages, o),
    eosToken,
    bosToken: tokenizer.bosToken,
  });
}

/**
 * Rendered chat text to ids as apply_chat_template(tokenize=True) gives them: no special tokens added
 * (the template writes them), except with the fallback, where the tokenizer adds them as for plain text.
 */
export function encodeRendered(
  tokenizer: DatasetTokenizer,
  rendering: ChatRendering,
  text: string,
): number[] {
  return tokenizer.encode(text, { addSpecialTokens: rendering.fallback });
}

/** A chat template's refusal of a conversation as a bad row naming its line, its roles and the template's words. */
export function chatTemplateRefusal(line: number, messages: ChatMessage[], error: unknown): DatasetRowError {
  const roles = messages.map((m) => m.role).join(', ');
  const why = error instanceof Error ? error.message : String(error);
  return new DatasetRowError(
    line,
    `roles ${roles}`,
    `the model's chat template refused this conversation (${why})`,
  );
}

export function tokenizeExamples(
  examples: readonly Example[],
  tokenizer: DatasetTokenizer,
  options: TokenizeOptions,
): TokenizedExamples {
  let rendering: ChatRendering | undefined;
  const chat = () => {
    rendering ??= chatRenderingOf(tokenizer, options.eosTokenId);
    return rendering;
  };
  const result: TokenizedExamples = {
    examples: [],
    truncated: 0,
    untrained: 0,
    boundaryMismatches: 0,
    template: 'none',
  };
  const truncate = options.truncate ?? true;
  for (const given of examples) {
    const example = given.kind === 'preference' ? chosenAsCompletion(given) : given;
    const { ids, labels, boundaryMismatch } = encodeRow(example, tokenizer, options, chat);
    const truncated = truncate && ids.length > options.maxLength;
    const kept = truncated ? options.maxLength : ids.length;
    const tokenized: TokenizedExample = {
      ids: ids.slice(0, kept),
      labels: labels.slice(0, kept),
      line: example.line,
      length: ids.length,
      truncated,
      boundaryMismatch,
    };
    if (truncated) result.truncated++;
    if (boundaryMismatch) result.boundaryMismatches++;
    if (tokenized.labels.every((l) => l === -100)) result.untrained++;
    result.examples.push(tokenized);
  }
  if (rendering) result.template = rendering.fallback ? 'fallback' : 'model';
  return result;
}

/**
 * encodeExample, with a chat template's refusal of a conversation (Gemma's and Mistral's raise_exception
 * when roles do not alternate, a template that knows no "tool" role) turned into a bad row that names its
 * line, the roles it was given, and the template's own words.
 */
function encodeRow(
  example: Example,
  tokenizer: DatasetTokenizer,
  options: TokenizeOptions,
  chat: () => ChatRendering,
): Encoded {
  try {
    return encodeExample(example, tokenizer, options, chat);
  } catch (error) {
    if (example.kind !== 'chat' || error instanceof DatasetTaskError) throw error;
    throw chatTemplateRefusal(example.line, example.messages, error);
  }
}
