/**
 * Chat messages to the text a model is trained on: the model's own chat template (tokenizer_config.json
 * or chat_template.jinja, through @huggingface/jinja), or, for a model without one (GPT-2, base
 * models), this fallback, which needs no new tokens:
 *
 *   ### System:\n{system}\n\n### User:\n{user}\n\n### Assistant:\n{assistant}{eos_token}\n\n### User:\n...
 *
 * The assistant's turn ends with EOS so the model learns to stop, and the separator before the next
 * turn belongs to that turn, so a trained assistant span is exactly its content and EOS. With
 * add_generation_prompt the text ends with "### Assistant:\n", and rendering a conversation cut just
 * before an assistant turn gives a prefix of the whole (which prompt masking relies on).
 */
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '../text/tokenizer';

export const FALLBACK_CHAT_TEMPLATE = [
  '{%- for message in messages -%}',
  "{%- if not loop.first -%}{{- '\\n\\n' -}}{%- endif -%}",
  "{%- if message['role'] == 'system' -%}{{- '### System:\\n' + message['content'] -}}",
  "{%- elif message['role'] == 'user' -%}{{- '### User:\\n' + message['content'] -}}",
  "{%- elif message['role'] == 'assistant' -%}{{- '### Assistant:\\n' + message['content'] + eos_token -}}",
  "{%- else -%}{{- '### ' + message['role'] + ':\\n' + message['content'] -}}",
  '{%- endif -%}',
  '{%- endfor -%}',
  "{%- if add_generation_prompt -%}{%- if messages | length > 0 -%}{{- '\\n\\n' -}}{%- endif -%}{{- '### Assistant:\\n' -}}{%- endif -%}",
].join('');

/** The part of ModelTokenizer that rendering needs. */
export interface ChatTemplateSource {
  readonly hasChatTemplate: boolean;
  applyChatTemplate(messages: ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
  readonly eosToken?: string;
  readonly bosToken?: string;
}

export interface ChatRendering {
  /** True when the model has no chat template and FALLBACK_CHAT_TEMPLATE is used. */
  fallback: boolean;
  render(messages: ChatMessage[], addGenerationPrompt: boolean): string;
}

export function chatRenderer(source: ChatTemplateSource): ChatRendering {
  if (source.hasChatTemplate)
    return {
      fallback: false,
      render: (messages, addGenerationPrompt) => source.applyChatTemplate(messages, { addGenerationPrompt }),
    };
  const template = new Template(FALLBACK_CHAT_TEMPLATE);
  return {
    fallback: true,
    render: (messages, addGenerationPrompt) =>
      template.render({
        messages,
        add_generation_prompt: addGenerationPrompt,
        eos_token: source.eosToken ?? '',
        bos_token: source.bosToken ?? '',
      }),
  };
}
