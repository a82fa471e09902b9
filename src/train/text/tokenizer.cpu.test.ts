import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelTokenizer } from './tokenizer';

const fixtures = new URL('../../../../shared/hf-fixtures/', import.meta.url).pathname;
const json = (path: string) => JSON.parse(readFileSync(fixtures + path, 'utf8'));

// Expected ids are what transformers' AutoTokenizer gives for these hub tokenizers.
describe.runIf(existsSync(fixtures))('real tokenizers (../shared/hf-fixtures)', () => {
  it('GPT-2: byte-level BPE, no special tokens added, exact round trip', () => {
    const t = new ModelTokenizer(json('gpt2/tokenizer.json'), json('gpt2/tokenizer_config.json'));
    expect(t.encode('Hello world')).toEqual([15496, 995]);
    const text = 'Fine-tuning in the browser: 42 tokens/s, naïve café ✓';
    expect(t.decode(t.encode(text))).toBe(text);
  });

  it('BERT: WordPiece with [CLS] … [SEP] from the post-processor', () => {
    const t = new ModelTokenizer(
      json('bert-base-uncased/tokenizer.json'),
      json('bert-base-uncased/tokenizer_config.json'),
    );
    expect(t.encode('Hello world')).toEqual([101, 7592, 2088, 102]);
    expect(t.decode(t.encode('Hello world'), { skipSpecialTokens: true })).toBe('hello world');
  });

  it('TinyLlama (Llama 2): SentencePiece BPE with BOS, and its chat template', () => {
    const t = new ModelTokenizer(
      json('tinyllama-1.1b-chat-v1.0/tokenizer.json'),
      json('tinyllama-1.1b-chat-v1.0/not-exact/tokenizer_config.json'),
      readFileSync(`${fixtures}tinyllama-1.1b-chat-v1.0/not-exact/chat_template.jinja`, 'utf8'),
    );
    expect(t.encode('Hello world')).toEqual([1, 15043, 3186]);
    expect(t.decode(t.encode('Hello world'), { skipSpecialTokens: true })).toBe('Hello world');
    expect(t.hasChatTemplate).toBe(true);
    expect(t.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true })).toBe(
      '<|user|>\nHi</s>\n<|assistant|>\n',
    );
  });

  it('Qwen2.5: the ChatML template with its default system prompt', () => {
    const config = json('qwen2.5-0.5b-instruct/tokenizer_config.json');
    const template = new ModelTokenizer(json('gpt2/tokenizer.json'), config); // Qwen's tokenizer.json is not in the fixtures
    expect(template.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });
});
