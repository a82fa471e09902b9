/**
 * A tokenizer for dataset tests whose ids can be read by eye: every character is its code point, and
 * the special tokens below are single ids, as a real tokenizer's added tokens are. encode adds BOS
 * (like Llama) unless told not to. A chat template, when given, is rendered with @huggingface/jinja
 * exactly as ModelTokenizer renders one.
 */
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '../../text/tokenizer';
import type { DatasetTokenizer } from '../tokenize-examples';

export const SPECIAL: Readonly<Record<string, number>> = {
  '<s>': 1,
  '</s>': 2,
  '<|im_start|>': 3,
  '<|im_end|>': 4,
};
export const BOS = 1;
export const EOS = 2;

/** ChatML without a default system prompt. */
export const CHATML =
  "{%- for m in messages -%}{{- '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' -}}{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";

export class CharTokenizer implements DatasetTokenizer {
  private readonly template?: Template;
  readonly eosToken = '</s>';
  readonly bosToken = '<s>';

  constructor(
    chatTemplate?: string,
    private readonly addBos = true,
  ) {
    if (chatTemplate) this.template = new Template(chatTemplate);
  }

  get hasChatTemplate(): boolean {
    return this.template !== undefined;
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    const ids: number[] = options.addSpecialTokens === false || !this.addBos ? [] : [BOS];
    for (const piece of text.split(/(<s>|<\/s>|<\|im_start\|>|<\|im_end\|>)/)) {
      const special = SPECIAL[piece];
      if (special !== undefined) ids.push(special);
      else for (const c of piece) ids.push(c.codePointAt(0) as number);
    }
    return ids;
  }

  decode(ids: number[]): string {
    const names = Object.fromEntries(Object.entries(SPECIAL).map(([k, v]) => [v, k]));
    return ids.map((id) => names[id] ?? String.fromCodePoint(id)).join('');
  }

  applyChatTemplate(messages: ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    if (!this.template) throw new Error('no chat template');
    return this.template.render({
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? false,
      eos_token: this.eosToken,
      bos_token: this.bosToken,
    });
  }
}

/** The trained part of a token example, decoded: labels that are not -100, as text. */
export function trainedText(tokenizer: DatasetTokenizer, ids: number[], labels: number[]): string[] {
  const spans: string[] = [];
  let span: number[] = [];
  labels.forEach((label, i) => {
    if (label !== -100) span.push(ids[i] as number);
    else if (span.length) {
      spans.push(tokenizer.decode(span));
      span = [];
    }
  });
  if (span.length) spans.push(tokenizer.decode(span));
  return spans;
}

export const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
