/**
 * A model that writes text for the playground: a finished run (its model with its trained adaptation)
 * or a base model. Renders the prompt (the model's chat template for instruct models, with the
 * generation prompt, as transformers' apply_chat_template(add_generation_prompt=True) does), tokenizes
 * it, and streams new token ids from the KV-cache generator. Stops at the model's EOS ids.
 */
import type { Runtime } from '../../gpu/runtime';
import { Generator } from '../generate/generator';
import type { ModelBundle } from '../io/model-bundle';
import type { DecoderModel } from '../models/decoder-step';
import type { Adaptation } from '../peft/adaptation';
import type { GenerationSettings, PromptInput } from './protocol';

export class GenerationError extends Error {
  override readonly name = 'GenerationError';
}

export interface TextSource {
  promptIds(prompt: PromptInput): { ids: number[]; templated: boolean };
  tokens(ids: number[], settings: GenerationSettings): AsyncGenerator<number>;
  decode(ids: number[]): string;
}

/** Cache length: enough for a playground exchange on any model, small enough for a small GPU. */
const playgroundLength = 1024;

export function textSource(
  runtime: Runtime,
  model: DecoderModel,
  bundle: ModelBundle,
  adaptation?: Adaptation,
): TextSource {
  const tokenizer = bundle.tokenizer;
  const maxLength =
    model.config.positions === 'learned'
      ? model.config.P - (adaptation?.virtualTokens ?? 0) - (adaptation?.prefixTokens ?? 0)
      : playgroundLength;
  let generator: Generator | undefined;
  return {
    promptIds(prompt) {
      const templated = prompt.template === 'auto' && tokenizer.hasChatTemplate;
      const text = templated
        ? tokenizer.applyChatTemplate([{ role: 'user', content: prompt.text }], { addGenerationPrompt: true })
        : prompt.text;
      // A rendered template already holds its special tokens (BOS included).
      const ids = tokenizer.encode(text, { addSpecialTokens: !templated });
      if (ids.length === 0) throw new GenerationError('The prompt is empty: type something to continue.');
      return { ids, templated };
    },
    tokens(ids, settings) {
      if (ids.length + settings.maxNewTokens > maxLength)
        throw new GenerationError(
          `The prompt (${ids.length} tokens) plus ${settings.maxNewTokens} new tokens passes this model's ${maxLength}-token limit; shorten the prompt or lower max tokens.`,
        );
      generator ??= new Generator(runtime, model, maxLength, adaptation);
      return generator.stream(ids, {
        maxNewTokens: settings.maxNewTokens,
        sampling: { temperature: settings.temperature, topK: settings.topK, topP: settings.topP },
        seed: settings.seed,
        stopTokenIds: bundle.generation.eosTokenIds,
      });
    },
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
  };
}
