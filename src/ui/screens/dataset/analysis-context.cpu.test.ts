import { describe, expect, it } from 'vitest';
import { builtinTinyLlama } from '../../models/model-catalogue';
import { analysisContextFor } from './analysis-context';

describe('the analysis context', () => {
  it("sends the built-in model's tokenizer files, not its weights, and the sequence length", () => {
    const context = analysisContextFor(builtinTinyLlama.id, '64');
    expect(context.maxLength).toBe(64);
    expect(context.tokenizer?.modelId).toBe(builtinTinyLlama.id);
    expect(Object.keys(context.tokenizer?.files ?? {}).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(context.tokenizer?.files['tokenizer.json']).toBe(builtinTinyLlama.files()['tokenizer.json']);
  });

  it('leaves out a sequence length that is not a whole positive number, and an unknown model', () => {
    expect(analysisContextFor(builtinTinyLlama.id, '1e-').maxLength).toBeUndefined();
    expect(analysisContextFor(builtinTinyLlama.id, '0').maxLength).toBeUndefined();
    expect(analysisContextFor('no-such-model', '32')).toEqual({ maxLength: 32 });
  });
});
