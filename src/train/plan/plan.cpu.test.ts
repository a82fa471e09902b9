/**
 * The planner without a GPU: its rounding and norm partials agree with the arena's and the kernels';
 * real model shapes plan to their exact parameter counts (hand-computed here from the configs, and equal
 * to the published counts); methods change what they should; and `fits` refuses with advice.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alignedByteSize } from '../../gpu/arena';
import * as gpuSplitK from '../../gpu/kernels/matmul/split-k';
import { partialPlan, rowLanes } from '../../gpu/kernels/rmsnorm/row-segments';
import { valueImportClosure } from '../../testing/import-graph';
import { ModelTooLargeError } from '../buffer-limits';
import { type DecoderConfig, parseModelConfig, withBaseQuantization } from '../models/config';
import { assertPlanFits, defaultMemoryBudgetBytes, MemoryPlanError } from './fit';
import { arenaBytes } from './ledger';
import { planMemory } from './memory-plan';
import { PlanSettingsError } from './method-settings';
import { splitKMinChunk, splitKWorkspaceBytes, splitKWorkspaceUsed } from './split-k-workspace';
import { normPartialRows } from './step-tensors';

const fixtures = new URL('../../../../shared/hf-fixtures/', import.meta.url).pathname;
const readConfig = (path: string) => parseModelConfig(JSON.parse(readFileSync(`${fixtures}${path}`, 'utf8')));

/** SmolLM2-135M's config.json (HuggingFaceTB/SmolLM2-135M; not in hf-fixtures, so written out here). */
const smolLm2 = parseModelConfig({
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 576,
  intermediate_size: 1536,
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  max_position_embeddings: 8192,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  tie_word_embeddings: true,
  vocab_size: 49152,
});

/** Parameters from the shapes, written independently of weight-shapes.ts. */
function parameterCount(c: DecoderConfig): number {
  if (c.family === 'gpt2') {
    const perLayer =
      4 * c.C + (c.C * 3 * c.C + 3 * c.C) + (c.C * c.C + c.C) + (c.C * c.F + c.F) + (c.F * c.C + c.C);
    return c.V * c.C + c.P * c.C + c.L * perLayer + 2 * c.C + (c.tieWordEmbeddings ? 0 : c.V * c.C);
  }
  const [Q, KVW] = [c.NH * c.D, c.KV * c.D];
  const bias = c.qkvBias ? Q + 2 * KVW : 0;
  const perLayer = 2 * c.C + c.C * Q + 2 * c.C * KVW + Q * c.C + bias + 3 * c.C * c.F;
  return c.V * c.C + c.L * perLayer + c.C + (c.tieWordEmbeddings ? 0 : c.V * c.C);
}

const step = { batchSize: 4, seqLen: 256 };

describe('the planner mirrors the arena and the kernels', () => {
  it('rounds buffers as the arena does', () => {
    for (const bytes of [1, 4, 15, 16, 17, 100, 4096, 4097, 123456789]) {
      expect(arenaBytes(bytes)).toBe(alignedByteSize(bytes));
    }
  });
  it('sizes the norms’ partial gradient sums as partialPlan does', () => {
    for (const rows of [1, 7, 32, 255, 1024, 4096, 20000]) {
      for (const cols of [16, 64, 128, 576, 896, 2048]) {
        expect(normPartialRows(rows, cols)).toBe(partialPlan(rows, rowLanes(cols)).partialRows);
      }
    }
  });
});

describe("the planner's copy of the split-K workspace rule", () => {
  it("has the kernel's constants, and counts the workspace whenever a LoRA gradient of that many tokens splits", () => {
    expect(splitKWorkspaceBytes).toBe(gpuSplitK.splitKWorkspaceBytes);
    expect(splitKMinChunk).toBe(gpuSplitK.splitKMinChunk);
    const lora = { method: 'lora', r: 8 } as const;
    for (const tokens of [64, 511, 512, 4096]) {
      // LoRA's dA for SmolLM2's q_proj: [8, 576] over every token of the step.
      const splits = gpuSplitK.splitKPlan(8, 576, tokens) !== undefined;
      expect(splitKWorkspaceUsed(lora, tokens, true), `${tokens} tokens`).toBe(splits);
    }
    expect(splitKWorkspaceUsed(lora, 4096, false)).toBe(false);
    expect(splitKWorkspaceUsed({ method: 'ia3' }, 4096, true)).toBe(false);
  });
});

describe('the planner is importable without a GPU', () => {
  it('nothing index.ts imports, however indirectly, is under src/gpu', () => {
    const seen = valueImportClosure([new URL('./index.ts', import.meta.url).pathname]);
    expect([...seen].some((f) => f.includes('/plan/memory-plan.ts'))).toBe(true);
    expect([...seen].filter((f) => f.includes('/src/gpu/'))).toEqual([]);
  });
});

describe('real model shapes', () => {
  it('SmolLM2-135M: weights are its 134,515,008 parameters × 4 bytes', () => {
    const plan = planMemory(smolLm2, { method: 'lora', r: 8 }, step);
    expect(parameterCount(smolLm2)).toBe(134_515_008);
    expect(plan.components.weights).toBe(134_515_008 * 4);
    // LoRA r=8 on q_proj and v_proj: 30 layers × 8 × ((576 + 576) + (576 + 192)).
    expect(plan.parameters.trainable).toBe(30 * 8 * (1152 + 768));
    // The largest buffer is one LM head chunk's logits: the 1024 rows' [1024, 49152] would be 192 MiB,
    // so the head takes 682 rows at a time, 128 MiB of logits (lm-head-chunks.ts).
    expect(plan.largestBuffer).toEqual({
      label: 'logits of one LM head chunk (dlogits in place)',
      bytes: 682 * 49152 * 4,
      component: 'logits',
    });
  });

  it('SmolLM2-135M as the hub stores it (BF16): LoRA keeps the frozen matrices 16-bit, full training f32', () => {
    const bf16 = { ...smolLm2, halfWeights: true as const };
    const lora = planMemory(bf16, { method: 'lora', r: 8 }, step);
    // 61 norm vectors of 576 stay f32; the other 134,479,872 parameters are matrices, 2 bytes each.
    const norms = 61 * 576;
    expect(lora.components.weights).toBe((134_515_008 - norms) * 2 + norms * 4);
    expect(lora.halfWeights).toBe(true);
    const full = planMemory(bf16, { method: 'full' }, step);
    expect(full.components.weights).toBe(134_515_008 * 4);
    expect(full.halfWeights).toBe(false);
    expect(planMemory(smolLm2, { method: 'lora', r: 8 }, step).halfWeights).toBe(false);
  });

  it('SmolLM2-135M: full fine-tuning adds a gradient and AdamW’s m and v for every weight', () => {
    const full = planMemory(smolLm2, { method: 'full' }, step);
    const lora = planMemory(smolLm2, { method: 'lora', r: 8 }, step);
    expect(full.parameters.trainable).toBe(134_515_008);
    expect(full.components.gradients).toBe(full.components.weights);
    // m and v, plus the clip state, step uniform and grad-norm partials (one float per 32768 of a tensor).
    expect(full.components.optimizer - 2 * full.components.weights).toBeGreaterThan(0);
    expect(full.components.optimizer - 2 * full.components.weights).toBeLessThan(256 * 1024);
    const sgd = planMemory(smolLm2, { method: 'full' }, { ...step, optimizer: 'sgd' });
    expect(full.totalBytes - sgd.totalBytes).toBe(2 * full.components.weights);
    // What the target asks of LoRA: below full by about the gradients and optimizer state, and
    // the norms' partial gradient sums (2 per layer and the final norm's), which frozen norms skip.
    const N = step.batchSize * step.seqLen;
    const normPartials = (2 * smolLm2.L + 1) * normPartialRows(N, smolLm2.C) * smolLm2.C * 4;
    const saved = full.totalBytes - lora.totalBytes - normPartials;
    expect(saved / (full.components.gradients + full.components.optimizer)).toBeCloseTo(1, 1);
  });

  it('gradient checkpointing keeps one layer’s activations instead of 30', () => {
    const without = planMemory(smolLm2, { method: 'lora', r: 8 }, step);
    const withIt = planMemory(smolLm2, { method: 'lora', r: 8 }, { ...step, gradientCheckpointing: true });
    expect(withIt.activationBytes).toEqual(without.activationBytes);
    expect(withIt.components.activations).toBe(withIt.activationBytes.withCheckpointing);
    // The per-layer set (N × (3C + 3·NH·D + 3·KV·D + 3F) floats, and its row vectors) is kept once, not 30 times.
    const N = 1024;
    const perLayer = N * (3 * 576 + 3 * 576 + 3 * 192 + 3 * 1536) * 4;
    const saved = without.components.activations - withIt.components.activations;
    expect(saved).toBeGreaterThan(29 * perLayer);
    expect(saved).toBeLessThan(29 * perLayer * 1.05);
  });

  it('the methods add what they train', () => {
    const of = (m: Parameters<typeof planMemory>[1]) => planMemory(smolLm2, m, step).parameters.trainable;
    expect(of({ method: 'dora', r: 8 })).toBe(30 * (8 * (1152 + 768) + 576 + 192));
    // PEFT's IA3 for Llama: k_proj, v_proj (outputs, 192 each) and down_proj (input, 1536).
    expect(of({ method: 'ia3' })).toBe(30 * (192 + 192 + 1536));
    expect(of({ method: 'prompt', numVirtualTokens: 20 })).toBe(20 * 576);
    // Prefix: P × L·2·KV·D.
    expect(of({ method: 'prefix', numVirtualTokens: 20 })).toBe(20 * 30 * 2 * 192);
    // Bottleneck m = 576 / 16 = 36, after attention and after the feed-forward block.
    expect(of({ method: 'adapter', reductionFactor: 16 })).toBe(30 * 2 * (36 * 576 + 36 + 576 * 36 + 576));
    expect(of({ method: 'lora', r: 8, targetModules: 'all-linear' })).toBe(
      30 * 8 * (1152 + 768 + 768 + 1152 + 3 * (576 + 1536)),
    );
  });

  it('prompt tuning adds its virtual tokens to every row', () => {
    const plan = planMemory(smolLm2, { method: 'prompt', numVirtualTokens: 20 }, step);
    expect(plan.rows).toBe(4 * 276);
    // One chunk of 682 rows' logits, the chunk's input and its gradient [682, 576], and every row's loss.
    expect(plan.components.logits).toBe(682 * 49152 * 4 + 2 * 682 * 576 * 4 + 4 * 276 * 4);
  });

  describe.runIf(existsSync(fixtures))('configs in ../shared/hf-fixtures', () => {
    it.each([
      ['qwen2.5-0.5b-instruct/not-exact/config.json', 494_032_768],
      ['tinyllama-1.1b-chat-v1.0/not-exact/config.json', 1_100_048_384],
      ['gpt2/config.json', 124_439_808],
    ])('%s: weights are its %i parameters × 4 bytes', (path, published) => {
      const config = readConfig(path);
      expect(parameterCount(config)).toBe(published);
      const plan = planMemory(config, { method: 'lora', r: 8 }, step);
      expect(plan.components.weights).toBe(published * 4);
      expect(plan.parameters.total).toBe(published + plan.parameters.trainable);
    });

    it('Qwen2.5-0.5B full fine-tuning does not fit the default 4 GiB budget; LoRA does', () => {
      const config = readConfig('qwen2.5-0.5b-instruct/not-exact/config.json');
      const limits = { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 };
      const full = planMemory(config, { method: 'full' }, { batchSize: 1, seqLen: 256 });
      const lora = planMemory(config, { method: 'lora', r: 8 }, { batchSize: 1, seqLen: 256 });
      expect(full.totalBytes).toBeGreaterThan(defaultMemoryBudgetBytes);
      expect(full.fits(limits).fits).toBe(false);
      expect(full.fits(limits).advice.join(' ')).toMatch(/LoRA instead of full fine-tuning/);
      expect(lora.fits(limits)).toEqual({ fits: true, problems: [], advice: [] });
    });
  });
});

describe('refusing a plan that does not fit', () => {
  const limits = { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27 };

  it('names the buffer over the per-buffer limit and says to shorten the batch', () => {
    // 16 rows of 4096 tokens: each [65536, 1536] buffer of the MLP is 384 MiB, over 128 MiB. The logits
    // never are: the LM head runs in chunks of at most 128 MiB of them.
    const plan = planMemory(smolLm2, { method: 'lora', r: 8 }, { batchSize: 16, seqLen: 4096 });
    expect(plan.largestBuffer.component).not.toBe('logits');
    expect(plan.largestBuffer.bytes).toBe(65536 * 1536 * 4);
    const error = (() => {
      try {
        assertPlanFits(plan, { ...limits, memoryBudgetBytes: 2 ** 40 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MemoryPlanError);
    expect(error).toBeInstanceOf(ModelTooLargeError);
    const message = (error as Error).message;
    expect(message).toMatch(/largest buffer \(.+, 384\.0 MiB\) is over this GPU's 128\.0 MiB/);
    expect(message).toMatch(/lower the batch size \(16 now\) or the sequence length \(4096 now\)/);
  });

  it('an embedding table over the per-buffer limit: only a smaller model helps', () => {
    // SmolLM2's [49152, 576] table is 108 MiB; with a 64 MiB limit no batch size can fit it.
    const plan = planMemory(smolLm2, { method: 'lora', r: 8 }, { batchSize: 1, seqLen: 16 });
    const fit = plan.fits({ maxBufferSize: 2 ** 26, maxStorageBufferBindingSize: 2 ** 26 });
    expect(fit.fits).toBe(false);
    expect(fit.problems).toEqual([
      "its largest buffer (model.embed_tokens.weight, 108.0 MiB) is over this GPU's 64.0 MiB per buffer",
    ]);
    expect(fit.advice).toEqual([
      'choose a smaller model (its model.embed_tokens.weight alone is over the per-buffer limit)',
    ]);
  });

  it('over the budget: suggests checkpointing, LoRA and SGD for a full run', () => {
    const plan = planMemory(smolLm2, { method: 'full' }, { batchSize: 1, seqLen: 64 });
    const fit = plan.fits({
      maxBufferSize: 2 ** 31,
      maxStorageBufferBindingSize: 2 ** 31,
      memoryBudgetBytes: 2 ** 30,
    });
    expect(fit.fits).toBe(false);
    expect(fit.problems[0]).toMatch(/over the 1\.00 GiB budget/);
    expect(fit.advice.join(' | ')).toMatch(
      /gradient checkpointing.*LoRA instead of full.*SGD instead of AdamW/,
    );
  });

  it('over the budget with frozen weights most of it: suggests NF4, which then fits', () => {
    const limits = {
      maxBufferSize: 2 ** 31,
      maxStorageBufferBindingSize: 2 ** 31,
      memoryBudgetBytes: 400 * 2 ** 20,
    };
    const lora = planMemory(smolLm2, { method: 'lora', r: 8 }, { batchSize: 1, seqLen: 64 });
    const fit = lora.fits(limits);
    expect(fit.fits).toBe(false);
    expect(fit.advice.join(' | ')).toMatch(/quantize the frozen base to 4-bit NF4, as QLoRA does/);
    const qlora = planMemory(
      withBaseQuantization(smolLm2, 'nf4'),
      { method: 'lora', r: 8 },
      { batchSize: 1, seqLen: 64 },
    );
    expect(qlora.fits(limits).fits).toBe(true);
    // Full fine-tuning is not told to quantize: it trains the weights.
    const full = planMemory(smolLm2, { method: 'full' }, { batchSize: 1, seqLen: 64 }).fits(limits);
    expect(full.advice.join(' | ')).not.toMatch(/NF4/);
  });

  it('counts early stopping’s copy of the trainable weights', () => {
    const step = { batchSize: 1, seqLen: 64, evaluation: true };
    const lora = planMemory(smolLm2, { method: 'lora', r: 8 }, step);
    const keeping = planMemory(smolLm2, { method: 'lora', r: 8 }, { ...step, keepBestWeights: true });
    expect(keeping.components.optimizer - lora.components.optimizer).toBe(4 * lora.parameters.trainable);
  });

  it('fits under the default budget and generous limits', () => {
    const plan = planMemory(smolLm2, { method: 'lora', r: 8 }, step);
    expect(() =>
      assertPlanFits(plan, { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 }),
    ).not.toThrow();
  });

  it('rejects settings it cannot plan, by name', () => {
    expect(() => planMemory(smolLm2, { method: 'lora', r: 0 }, step)).toThrow(PlanSettingsError);
    expect(() => planMemory(smolLm2, { method: 'lora', r: 8 }, { batchSize: 0, seqLen: 8 })).toThrow(
      /batch size/,
    );
    expect(() => planMemory(smolLm2, { method: 'lora', r: 8, targetModules: ['c_attn'] }, step)).toThrow(
      /No linear layer matches target modules \["c_attn"\]; this model has: q_proj/,
    );
    expect(() => planMemory(smolLm2, { method: 'adapter', reductionFactor: 1000 }, step)).toThrow(
      /no bottleneck/,
    );
  });
});
