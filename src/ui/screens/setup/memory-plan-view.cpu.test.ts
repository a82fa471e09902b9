import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../train/models/config';
import { planMemory } from '../../../train/plan/index';
import type { LimitsInUse } from '../../models/model-estimates';
import { MemoryPlanView } from './MemoryPlanView';

const config = (torchDtype: string) =>
  parseModelConfig({
    architectures: ['LlamaForCausalLM'],
    hidden_size: 64,
    num_attention_heads: 4,
    num_hidden_layers: 2,
    intermediate_size: 96,
    vocab_size: 300,
    torch_dtype: torchDtype,
  });

const limits: LimitsInUse = {
  source: 'defaults',
  maxBufferSize: 2 ** 28,
  maxStorageBufferBindingSize: 2 ** 27,
  memoryBudgetBytes: 2 ** 30,
};

function render(torchDtype: string, method: 'lora' | 'full') {
  const settings = method === 'lora' ? { method, r: 8 } : { method };
  const plan = planMemory(config(torchDtype), settings, { batchSize: 1, seqLen: 16 });
  return renderToStaticMarkup(
    createElement(MemoryPlanView, { estimate: { method, plan, fit: plan.fits(limits) }, limits }),
  );
}

describe('the memory plan on the setup screen', () => {
  it('says when the frozen matrices stay 16-bit, and only then', () => {
    expect(render('bfloat16', 'lora')).toContain('frozen matrices kept 16-bit, as stored');
    expect(render('bfloat16', 'full')).not.toContain('16-bit');
    expect(render('float32', 'lora')).not.toContain('16-bit');
  });
});
