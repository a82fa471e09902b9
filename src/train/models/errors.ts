/** Named errors for model loading; each message says what is wrong and what is supported. */

export const supportedArchitectures = [
  'LlamaForCausalLM',
  'Qwen2ForCausalLM',
  'Qwen3ForCausalLM',
  'MistralForCausalLM',
  'SmolLM3ForCausalLM',
  'Gemma2ForCausalLM',
  'Gemma3ForCausalLM',
  'GPT2LMHeadModel',
] as const;
export type Architecture = (typeof supportedArchitectures)[number];

export class UnsupportedArchitectureError extends Error {
  override readonly name = 'UnsupportedArchitectureError';
  constructor(readonly architecture: string) {
    super(
      `Whetstone cannot run ${architecture} models yet. Supported architectures: ${supportedArchitectures.join(', ')}.`,
    );
  }
}

export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
}

export class ModelFilesError extends Error {
  override readonly name = 'ModelFilesError';
}
