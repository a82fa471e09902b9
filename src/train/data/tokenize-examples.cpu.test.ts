import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelTokenizer } from '../text/tokenizer';
import { chatRenderer, FALLBACK_CHAT_TEMPLATE } from './chat-render';
import { DatasetTaskError } from './errors';
import type { Example } from './examples';
import { DatasetRowError } from './jsonl';
import { BOS, CHATML, CharTokenizer, EOS, trainedText } from './testing/char-tokenizer';
import { tokenizeExamples } from './tokenize-examples';

const chars = (text: string) => [...text].map((c) => c.codePointAt(0) as number);
const chat = (messages: [string, string][], trainFrom = 0): Example => ({
  kind: 'chat',
  line: 1,
  messages: messages.map(([role, content]) => ({ role, content })),
  trainFrom,
});
const one = (example: Example, tokenizer = new CharTokenizer(CHATML), options = {}) =>
  tokenizeExamples([example], tokenizer, { maxLength: 1000, eosTokenId: EOS, ...options });

describe('text and prompt/completion examples', () => {
  it('text: special tokens from the tokenizer, EOS appended once, every token trained', () => {
    const { examples } = tokenizeExamples(
      [
        { kind: 'text', line: 1, text: 'ab' },
        { kind: 'text', line: 2, text: 'ab</s>' },
      ],
      new CharTokenizer(),
      { maxLength: 10, eosTokenId: EOS },
    );
    const ids = [BOS, ...chars('ab'), EOS];
    expect(examples.map((e) => [e.ids, e.labels])).toEqual([
      [ids, ids],
      [ids, ids],
    ]);
  });

  it('prompt/completion: prompt + completion + EOS, the prompt masked as TRL’s completion-only loss', () => {
    const example: Example = { kind: 'prompt-completion', line: 1, prompt: 'Q:', completion: ' A' };
    const masked = one(example).examples[0];
    expect(masked?.ids).toEqual([BOS, ...chars('Q: A'), EOS]);
    expect(masked?.labels).toEqual([-100, -100, -100, ...chars(' A'), EOS]);
    expect(one(example, undefined, { maskPrompt: false }).examples[0]?.labels).toEqual(masked?.ids);
  });
});

describe('chat examples through the model’s template', () => {
  it('trains on the assistant turn only: rendered prompt with the generation prompt is masked', () => {
    const result = one(
      chat([
        ['user', 'Hi'],
        ['assistant', 'Yo'],
      ]),
    );
    const e = result.examples[0]!;
    // apply_chat_template(tokenize=True) adds no special tokens: the template writes them.
    expect(e.ids).toEqual(
      new CharTokenizer().encode('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n', {
        addSpecialTokens: false,
      }),
    );
    expect(trainedText(new CharTokenizer(), e.ids, e.labels)).toEqual(['Yo<|im_end|>\n']);
    expect(result).toMatchObject({ template: 'model', boundaryMismatches: 0, truncated: 0, untrained: 0 });
  });

  it('trains on every assistant turn of a multi-turn chat, or only from the completion of a prompt/completion chat', () => {
    const turns: [string, string][] = [
      ['system', 'S'],
      ['user', 'a'],
      ['assistant', 'b'],
      ['user', 'c'],
      ['assistant', 'd'],
    ];
    const every = one(chat(turns)).examples[0]!;
    expect(trainedText(new CharTokenizer(), every.ids, every.labels)).toEqual([
      'b<|im_end|>\n',
      'd<|im_end|>\n',
    ]);
    const last = one(chat(turns, 4)).examples[0]!;
    expect(trainedText(new CharTokenizer(), last.ids, last.labels)).toEqual(['d<|im_end|>\n']);
  });

  it('trains on everything with prompt masking off', () => {
    const e = one(
      chat([
        ['user', 'Hi'],
        ['assistant', 'Yo'],
      ]),
      undefined,
      { maskPrompt: false },
    ).examples[0]!;
    expect(e.labels).toEqual(e.ids);
  });

  it('uses the documented fallback when the model has no template: its text, BOS from the tokenizer, EOS trained', () => {
    const renderer = chatRenderer({ hasChatTemplate: false, applyChatTemplate: () => '', eosToken: '</s>' });
    const messages = [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Yo' },
    ];
    expect(renderer.fallback).toBe(true);
    expect(renderer.render(messages, false)).toBe(
      '### System:\nS\n\n### User:\nHi\n\n### Assistant:\nYo</s>',
    );
    expect(renderer.render(messages.slice(0, 2), true)).toBe(
      '### System:\nS\n\n### User:\nHi\n\n### Assistant:\n',
    );
    expect(FALLBACK_CHAT_TEMPLATE).toContain('### Assistant:');

    const result = one(
      chat([
        ['user', 'Hi'],
        ['assistant', 'Yo'],
      ]),
      new CharTokenizer(),
    );
    const e = result.examples[0]!;
    expect(e.ids[0]).toBe(BOS);
    expect(e.ids[e.ids.length - 1]).toBe(EOS);
    expect(trainedText(new CharTokenizer(), e.ids, e.labels)).toEqual(['Yo</s>']);
    expect(result.template).toBe('fallback');
  });
});

describe('length', () => {
  it('cuts examples to maxLength and counts them, and counts those left with nothing to train on', () => {
    const result = tokenizeExamples(
      [
        { kind: 'text', line: 1, text: 'abcdef' },
        { kind: 'text', line: 2, text: 'ab' },
        { kind: 'prompt-completion', line: 3, prompt: 'a long prompt', completion: 'x' },
      ],
      new CharTokenizer(),
      { maxLength: 5, eosTokenId: EOS },
    );
    expect(result.examples.map((e) => [e.ids.length, e.labels.length, e.length, e.truncated])).toEqual([
      [5, 5, 8, true],
      [4, 4, 4, false],
      [5, 5, 16, true],
    ]);
    expect([result.truncated, result.untrained]).toEqual([2, 1]);
    const kept = tokenizeExamples([{ kind: 'text', line: 1, text: 'abcdef' }], new CharTokenizer(), {
      maxLength: 5,
      truncate: false,
    });
    expect([kept.examples[0]?.ids.length, kept.truncated]).toEqual([7, 0]);
  });

  it('refuses classification examples for language-model training, by name', () => {
    const example: Example = { kind: 'classification', line: 7, text: 'a', label: 1 };
    expect(() => one(example)).toThrow(DatasetTaskError);
    expect(() => one(example)).toThrow(/Line 7 is a classification example/);
  });
});

const fixtures = new URL('../../../../shared/hf-fixtures/', import.meta.url).pathname;
const json = (path: string) => JSON.parse(readFileSync(fixtures + path, 'utf8'));

describe.runIf(existsSync(fixtures))('real tokenizers and templates (../shared/hf-fixtures)', () => {
  const conversation = chat([
    ['user', 'What is 2+2?'],
    ['assistant', 'It is 4.'],
    ['user', 'And 3+3?'],
    ['assistant', 'It is 6.'],
  ]);

  it('TinyLlama: its template, no BOS added, both assistant turns trained up to their </s>', () => {
    const t = new ModelTokenizer(
      json('tinyllama-1.1b-chat-v1.0/tokenizer.json'),
      json('tinyllama-1.1b-chat-v1.0/not-exact/tokenizer_config.json'),
      readFileSync(`${fixtures}tinyllama-1.1b-chat-v1.0/not-exact/chat_template.jinja`, 'utf8'),
    );
    const result = tokenizeExamples([conversation], t, { maxLength: 512, eosTokenId: 2 });
    const e = result.examples[0]!;
    expect(result).toMatchObject({ template: 'model', boundaryMismatches: 0 });
    expect(e.ids).toEqual(
      t.encode(t.applyChatTemplate(conversation.kind === 'chat' ? conversation.messages : []), {
        addSpecialTokens: false,
      }),
    );
    expect(e.ids[0]).not.toBe(1);
    // " \n": Llama-2's tokenizer.json prepends "▁" (29871) to the text after a special token, as
    // transformers' fast tokenizer does; the trained span includes it because the full text has it too.
    expect(trainedText(t, e.ids, e.labels)).toEqual(['It is 4.</s> \n', 'It is 6.</s> \n']);
  });

  it('Qwen2.5’s ChatML template (with its default system prompt) over the GPT-2 tokenizer', () => {
    const t = new ModelTokenizer(
      json('gpt2/tokenizer.json'),
      json('qwen2.5-0.5b-instruct/tokenizer_config.json'),
    );
    const result = tokenizeExamples([conversation], t, { maxLength: 512 });
    const e = result.examples[0]!;
    expect(result.boundaryMismatches).toBe(0);
    expect(t.decode(e.ids).startsWith('<|im_start|>system\nYou are Qwen')).toBe(true);
    expect(trainedText(t, e.ids, e.labels)).toEqual(['It is 4.<|im_end|>\n', 'It is 6.<|im_end|>\n']);
  });

  it('GPT-2 has no template: the fallback, with <|endoftext|> from the EOS id as the end of each answer', () => {
    const t = new ModelTokenizer(json('gpt2/tokenizer.json'), json('gpt2/tokenizer_config.json'));
    const result = tokenizeExamples([conversation], t, { maxLength: 512, eosTokenId: 50256 });
    const e = result.examples[0]!;
    expect(result).toMatchObject({ template: 'fallback', boundaryMismatches: 0 });
    expect(e.ids[e.ids.length - 1]).toBe(50256);
    expect(trainedText(t, e.ids, e.labels)).toEqual(['It is 4.<|endoftext|>', 'It is 6.<|endoftext|>']);
  });
});

describe('a conversation the chat template refuses', () => {
  // As Gemma's and Mistral's templates do: roles must alternate user/assistant, starting with the user.
  const alternating =
    "{%- for m in messages -%}{%- if (m['role'] == 'user') != (loop.index0 % 2 == 0) -%}" +
    "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}" +
    "{%- endif -%}{{- m['role'] + ': ' + m['content'] + '\\n' -}}{%- endfor -%}" +
    "{%- if add_generation_prompt -%}{{- 'assistant: ' -}}{%- endif -%}";

  it("is a bad row that names its line, its roles and the template's words", () => {
    const tokenizer = new CharTokenizer(alternating);
    const fine = chat([
      ['user', 'Hi'],
      ['assistant', 'Yo'],
    ]);
    expect(one(fine, tokenizer).examples).toHaveLength(1);
    const refused = {
      ...chat([
        ['user', 'Hi'],
        ['user', 'Again'],
        ['assistant', 'Yo'],
      ]),
      line: 7,
    };
    expect(() => one(refused, tokenizer)).toThrow(DatasetRowError);
    expect(() => one(refused, tokenizer)).toThrow(
      "the dataset, line 7: the model's chat template refused this conversation (Conversation roles must alternate user/assistant/user/assistant/...): roles user, user, assistant",
    );
  });
});
