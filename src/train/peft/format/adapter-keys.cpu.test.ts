import { describe, expect, it } from 'vitest';
import { tinyConfigJson } from '../../fixtures/tiny-models';
import { parseModelConfig } from '../../models/config';
import {
  ia3AdapterConfig,
  loraAdapterConfig,
  prefixTuningAdapterConfig,
  promptTuningAdapterConfig,
} from './adapter-config';
import {
  allLinearTargetModules,
  ia3Key,
  linearModuleNames,
  loraKey,
  matchesFeedforward,
  matchesTarget,
} from './adapter-keys';
import { AdapterModelMismatchError } from './errors';
import { expectedAdapterKeys } from './expected-keys';
import { prefixIndex } from './prompt-layout';

// Llama: C 32, L 2, NH 4, KV 2 (GQA), D 8, F 48. GPT-2: C 32, L 2, NH 4, F 128.
const llama = parseModelConfig(tinyConfigJson({ family: 'llama' }, 64, 1, 2));
const qwen2 = parseModelConfig(tinyConfigJson({ family: 'qwen2' }, 64, 1, 2));
// Qwen3: 4 heads of 16 over C 32 (q_proj out 64, KV 32).
const qwen3 = parseModelConfig(tinyConfigJson({ family: 'qwen3' }, 64, 1, 2));
const gpt2 = parseModelConfig(tinyConfigJson({ family: 'gpt2' }, 64, 1, 2));

const entries = (m: Map<string, number[]>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));

describe('adapter tensor keys and shapes', () => {
  it('names LoRA and DoRA tensors as get_peft_model_state_dict saves them', () => {
    expect(loraKey(llama, 1, 'q_proj', 'lora_A')).toBe(
      'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight',
    );
    expect(loraKey(llama, 0, 'mlp.down_proj', 'lora_B')).toBe(
      'base_model.model.model.layers.0.mlp.down_proj.lora_B.weight',
    );
    expect(loraKey(llama, 0, 'v_proj', 'lora_magnitude_vector')).toBe(
      'base_model.model.model.layers.0.self_attn.v_proj.lora_magnitude_vector',
    );
    expect(loraKey(gpt2, 1, 'c_attn', 'lora_A')).toBe(
      'base_model.model.transformer.h.1.attn.c_attn.lora_A.weight',
    );
    expect(loraKey(gpt2, 0, 'mlp.c_proj', 'lora_B')).toBe(
      'base_model.model.transformer.h.0.mlp.c_proj.lora_B.weight',
    );
    expect(ia3Key(gpt2, 0, 'attn.c_proj')).toBe('base_model.model.transformer.h.0.attn.c_proj.ia3_l');
  });

  it('LoRA on Qwen3 with PEFT default targets: q_proj [in 32, out 64] and v_proj [32, 32]', () => {
    const keys = expectedAdapterKeys(qwen3, loraAdapterConfig(qwen3, { r: 4, alpha: 8 }));
    expect(entries(keys).filter(([k]) => k.includes('.1.'))).toEqual([
      ['base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight', [4, 32]],
      ['base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight', [64, 4]],
      ['base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight', [4, 32]],
      ['base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight', [32, 4]],
    ]);
  });

  it('refuses an ambiguous or unknown module and a layer out of range', () => {
    expect(() => loraKey(gpt2, 0, 'c_proj', 'lora_A')).toThrow('say "attn.c_proj" or "mlp.c_proj"');
    expect(() => loraKey(llama, 0, 'c_attn', 'lora_A')).toThrow(/no linear module "c_attn"/);
    expect(() => loraKey(llama, 2, 'q_proj', 'lora_A')).toThrow(/layers 0..1/);
  });

  it('LoRA on Llama with PEFT default targets (q_proj, v_proj): [r, in] and [out, r]', () => {
    const keys = expectedAdapterKeys(llama, loraAdapterConfig(llama, { r: 8, alpha: 16 }));
    expect(entries(keys)).toEqual([
      ['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', [8, 32]],
      ['base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight', [32, 8]],
      ['base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight', [8, 32]],
      ['base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight', [16, 8]],
      ['base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight', [8, 32]],
      ['base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight', [32, 8]],
      ['base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight', [8, 32]],
      ['base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight', [16, 8]],
    ]);
  });

  it('LoRA all-linear on Llama with DoRA: every projection, magnitude [out]', () => {
    const c = loraAdapterConfig(llama, { r: 4, alpha: 8, targetModules: 'all-linear', useDora: true });
    const keys = expectedAdapterKeys(llama, c);
    expect(keys.size).toBe(2 * 7 * 3);
    const p = 'base_model.model.model.layers.1.';
    expect(keys.get(`${p}self_attn.k_proj.lora_B.weight`)).toEqual([16, 4]);
    expect(keys.get(`${p}self_attn.o_proj.lora_A.weight`)).toEqual([4, 32]);
    expect(keys.get(`${p}mlp.down_proj.lora_A.weight`)).toEqual([4, 48]);
    expect(keys.get(`${p}mlp.gate_proj.lora_magnitude_vector`)).toEqual([48]);
    expect(keys.get(`${p}self_attn.v_proj.lora_magnitude_vector`)).toEqual([16]);
  });

  it('LoRA on GPT-2: Conv1D weights are [in, out] but LoRA tensors are still [r, in] and [out, r]', () => {
    const keys = expectedAdapterKeys(gpt2, loraAdapterConfig(gpt2, { r: 2, alpha: 4 }));
    expect(entries(keys)).toEqual([
      ['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', [2, 32]],
      ['base_model.model.transformer.h.0.attn.c_attn.lora_B.weight', [96, 2]],
      ['base_model.model.transformer.h.1.attn.c_attn.lora_A.weight', [2, 32]],
      ['base_model.model.transformer.h.1.attn.c_attn.lora_B.weight', [96, 2]],
    ]);
    const all = expectedAdapterKeys(
      gpt2,
      loraAdapterConfig(gpt2, { r: 2, alpha: 4, targetModules: 'all-linear' }),
    );
    expect(all.size).toBe(2 * 4 * 2);
    expect(all.get('base_model.model.transformer.h.0.attn.c_proj.lora_B.weight')).toEqual([32, 2]);
    expect(all.get('base_model.model.transformer.h.0.mlp.c_proj.lora_A.weight')).toEqual([2, 128]);
    expect(all.get('base_model.model.transformer.h.0.mlp.c_fc.lora_B.weight')).toEqual([128, 2]);
  });

  it('the bare name "c_proj" targets both GPT-2 c_proj modules, as PEFT suffix matching does', () => {
    const keys = expectedAdapterKeys(
      gpt2,
      loraAdapterConfig(gpt2, { r: 2, alpha: 4, targetModules: ['c_proj'] }),
    );
    expect([...keys.keys()].filter((k) => k.includes('h.0.'))).toEqual([
      'base_model.model.transformer.h.0.attn.c_proj.lora_A.weight',
      'base_model.model.transformer.h.0.attn.c_proj.lora_B.weight',
      'base_model.model.transformer.h.0.mlp.c_proj.lora_A.weight',
      'base_model.model.transformer.h.0.mlp.c_proj.lora_B.weight',
    ]);
  });

  it('IA3: [out, 1] on outputs, [1, in] on feed-forward inputs', () => {
    expect(entries(expectedAdapterKeys(llama, ia3AdapterConfig(llama)))).toEqual([
      ['base_model.model.model.layers.0.mlp.down_proj.ia3_l', [1, 48]],
      ['base_model.model.model.layers.0.self_attn.k_proj.ia3_l', [16, 1]],
      ['base_model.model.model.layers.0.self_attn.v_proj.ia3_l', [16, 1]],
      ['base_model.model.model.layers.1.mlp.down_proj.ia3_l', [1, 48]],
      ['base_model.model.model.layers.1.self_attn.k_proj.ia3_l', [16, 1]],
      ['base_model.model.model.layers.1.self_attn.v_proj.ia3_l', [16, 1]],
    ]);
    // Qwen2's PEFT default takes q_proj where Llama's takes k_proj.
    expect(
      [...expectedAdapterKeys(qwen2, ia3AdapterConfig(qwen2)).keys()].filter((k) => k.includes('.0.')),
    ).toEqual([
      'base_model.model.model.layers.0.self_attn.q_proj.ia3_l',
      'base_model.model.model.layers.0.self_attn.v_proj.ia3_l',
      'base_model.model.model.layers.0.mlp.down_proj.ia3_l',
    ]);
    // Mistral's is Llama's.
    const mistral = parseModelConfig(tinyConfigJson({ family: 'mistral' }, 64, 1, 2));
    expect([...expectedAdapterKeys(mistral, ia3AdapterConfig(mistral)).keys()]).toEqual([
      ...expectedAdapterKeys(llama, ia3AdapterConfig(llama)).keys(),
    ]);
    // So does Qwen3's; its per-head norms (q_norm, k_norm) are not linear modules and are never targets.
    expect(
      entries(expectedAdapterKeys(qwen3, ia3AdapterConfig(qwen3))).filter(([k]) => k.includes('.0.')),
    ).toEqual([
      ['base_model.model.model.layers.0.mlp.down_proj.ia3_l', [1, 48]],
      ['base_model.model.model.layers.0.self_attn.q_proj.ia3_l', [64, 1]],
      ['base_model.model.model.layers.0.self_attn.v_proj.ia3_l', [32, 1]],
    ]);
    expect(entries(expectedAdapterKeys(gpt2, ia3AdapterConfig(gpt2)))).toEqual([
      ['base_model.model.transformer.h.0.attn.c_attn.ia3_l', [96, 1]],
      ['base_model.model.transformer.h.0.mlp.c_proj.ia3_l', [1, 128]],
      ['base_model.model.transformer.h.1.attn.c_attn.ia3_l', [96, 1]],
      ['base_model.model.transformer.h.1.mlp.c_proj.ia3_l', [1, 128]],
    ]);
  });

  it('prompt and prefix tuning save one tensor, prompt_embeddings', () => {
    const prompt = promptTuningAdapterConfig(gpt2, { numVirtualTokens: 5 });
    expect(entries(expectedAdapterKeys(gpt2, prompt))).toEqual([['prompt_embeddings', [5, 32]]]);
    const prefix = prefixTuningAdapterConfig(llama, { numVirtualTokens: 3 });
    expect(entries(expectedAdapterKeys(llama, prefix))).toEqual([['prompt_embeddings', [3, 2 * 2 * 16]]]);
    expect(() => expectedAdapterKeys(gpt2, prefix)).toThrow(AdapterModelMismatchError);
    expect(() => expectedAdapterKeys(llama, { ...prompt, tokenDim: 31 })).toThrow(AdapterModelMismatchError);
  });

  it('a SEQ_CLS adapter adds the score head, under base_model.model. or (prompt learning) base_model.', () => {
    const lora = loraAdapterConfig(llama, { r: 2, alpha: 2, taskType: 'SEQ_CLS' });
    expect(expectedAdapterKeys(llama, lora, { numLabels: 3 }).get('base_model.model.score.weight')).toEqual([
      3, 32,
    ]);
    const prompt = promptTuningAdapterConfig(gpt2, { numVirtualTokens: 2, taskType: 'SEQ_CLS' });
    expect(expectedAdapterKeys(gpt2, prompt, { numLabels: 2 }).get('base_model.score.weight')).toEqual([
      2, 32,
    ]);
    expect(() => expectedAdapterKeys(llama, lora)).toThrow(/pass numLabels/);
  });

  it('lays out a prefix as PEFT views and permutes it: [nvt, L*2, H, Dh], key then value per layer', () => {
    const c = prefixTuningAdapterConfig(llama, { numVirtualTokens: 3 }); // H 2 KV heads, Dh 8
    const [nvt, L, H, Dh] = [3, 2, 2, 8];
    // PEFT: view(batch=1, nvt, L*2, H, Dh).permute(2, 0, 3, 1, 4) -> [L*2, 1, H, nvt, Dh]; row 2l is
    // layer l's keys, 2l + 1 its values. Walk the permuted tensor and find each element's source index.
    for (let j = 0; j < L * 2; j++) {
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < nvt; t++) {
          for (let d = 0; d < Dh; d++) {
            const source = ((t * L * 2 + j) * H + h) * Dh + d;
            const kv = j % 2 === 0 ? 'key' : 'value';
            expect(prefixIndex(c, t, Math.floor(j / 2), kv, h, d)).toBe(source);
          }
        }
      }
    }
  });

  it('lists linear modules and matches targets as PEFT does', () => {
    expect(linearModuleNames(gpt2)).toEqual(['c_attn', 'c_proj', 'c_fc']);
    expect(allLinearTargetModules(gpt2).slice(0, 4)).toEqual([
      'transformer.h.0.attn.c_attn',
      'transformer.h.0.attn.c_proj',
      'transformer.h.0.mlp.c_fc',
      'transformer.h.0.mlp.c_proj',
    ]);
    expect(matchesTarget(['q_proj'], 'model.layers.0.self_attn.q_proj')).toBe(true);
    expect(matchesTarget(['q_proj'], 'model.layers.0.self_attn.xq_proj')).toBe(false);
    expect(matchesTarget(['model.layers.0.self_attn.q_proj'], 'model.layers.0.self_attn.q_proj')).toBe(true);
    expect(matchesTarget('.*\\.0\\..*q_proj', 'model.layers.0.self_attn.q_proj')).toBe(true);
    expect(matchesTarget('q_proj', 'model.layers.0.self_attn.q_proj')).toBe(false); // fullmatch
    expect(matchesFeedforward(['c_proj'], 'transformer.h.0.attn.c_proj')).toBe(true); // no "." boundary
    expect(matchesFeedforward(['mlp.c_proj'], 'transformer.h.0.attn.c_proj')).toBe(false);
    expect(() => matchesTarget('(?P<name>q_proj)', 'q_proj')).toThrow(/cannot read this Python regex/);
  });
});
