/**
 * A model's tokenizer: `tokenizer.json` through @huggingface/tokenizers (special tokens added exactly as
 * the tokenizer's own post-processor says), and the chat template of `tokenizer_config.json` through
 * @huggingface/jinja, rendered with the variables transformers passes (messages, add_generation_prompt,
 * bos_token, eos_token, ...).
 */
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';

export interface ChatMessage {
  role: string;
  content: string;
}

export class TokenizerError extends Error {
  override readonly name = 'TokenizerError';
}

type Json = Record<string, unknown>;

/** tokenizer_config.json names special tokens as strings or as { content } objects. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string')
    return (value as Json).content as string;
  return undefined;
}

export class ModelTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly template?: Template;
  readonly eosToken?: string;
  readonly bosToken?: string;

  /**
   * `chatTemplate` overrides tokenizer_config.json's: newer transformers save it beside, as chat_template.jinja.
   */
  constructor(
    tokenizerJson: unknown,
    private readonly config: Json = {},
    chatTemplate?: string,
  ) {
    try {
      this.tokenizer = new Tokenizer(tokenizerJson as never, config as never);
    } catch (error) {
      throw new TokenizerError(`tokenizer.json could not be read: ${String(error)}`);
    }
    this.eosToken = tokenText(config.eos_token);
    this.bosToken = tokenText(config.bos_token);
    const template = chatTemplate ?? config.chat_template;
    if (typeof template === 'string') this.template = new Template(template);
  }

  get hasChatTemplate(): boolean {
    return this.template !== undefined;
  }

  /** Token ids, with the special tokens the post-processor adds (BOS for Llama, CLS/SEP for BERT, none for GPT-2). */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** Renders the model's chat template, as transformers' apply_chat_template(tokenize=False) does. */
  applyChatTemplate(messages: ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    if (!this.template) {
      throw new TokenizerError(
        'This tokenizer has no chat template; use the documented fallback template instead.',
      );
    }
    return this.template.render({
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: this.bosToken ?? '',
      eos_token: this.eosToken ?? '',
      unk_token: tokenText(this.config.unk_token) ?? '',
      pad_token: tokenText(this.config.pad_token) ?? '',
    });
  }
}
