/**
 * PEFT compatibility of every adapter folder Whetstone writes, judged from PEFT's own rules rather than
 * from Whetstone's key tables (adapter-keys.ts, expected-keys.ts, peft-fields.ts), so a shared mistake
 * there cannot hide. PeftModel.from_pretrained(base, folder) loads with no missing or unexpected keys
 * exactly when the saved safetensors holds the keys get_peft_model_state_dict would write for the saved
 * config on that base model; this test derives that set here, for LoRA, rsLoRA, DoRA, IA3, prompt and
 * prefix tuning (with and without the MLP) on tiny Llama and GPT-2 models. Rules, from PEFT v0.20.0:
 * - module names are transformers' named_modules: LlamaForCausalLM `model.layers.N.self_attn.q_proj`,
 *   GPT2LMHeadModel `transformer.h.N.attn.c_attn` (base_model_prefix "transformer", which GPT-2's
 *   checkpoints may omit); PeftModel wraps the model as `base_model.model.` (tuners) ;
 * - a module is targeted when target_modules (a list) has its full name or a "."-suffix of it, or when
 *   target_modules (a string) fully matches it as a regex (tuners_utils.check_target_module_exists);
 * - LoRA saves `<prefix><module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r], the adapter name
 *   stripped; DoRA adds `.lora_magnitude_vector` [out] (save_and_load.py drops the ".weight" of the
 *   refactored DoraLinearLayer so the format stays); GPT-2's Conv1D weight is [in, out] (fan_in_fan_out);
 * - IA3 saves `.ia3_l`: [1, in] on a feed-forward module (ia3/model.py: any key.endswith(f)), else [out, 1];
 * - prompt learning saves one `prompt_embeddings`: prompt tuning [nvt·num_transformer_submodules (1 for
 *   CAUSAL_LM), token_dim]; prefix tuning [nvt, num_layers·2·token_dim], with token_dim and heads taken
 *   from the key/value heads under grouped-query attention (utils/other.py _prepare_prompt_learning_config);
 * - adapter_config.json is dataclasses.asdict of the config (LoraConfig.to_dict drops runtime_config), so
 *   it has exactly the dataclass fields listed below, copied from PEFT v0.20.0's config classes.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { type TinyFamily, tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { parseSafetensorsHeader } from '../io/safetensors';
import { createDecoderModel } from '../models/create-model';
import { DoraAdaptation } from '../peft/dora';
import type { WrittenAdapter } from '../peft/format/adapter-files';
import { Ia3Adaptation } from '../peft/ia3';
import { LoraAdaptation } from '../peft/lora';
import { PrefixTuningAdaptation } from '../peft/prefix-tuning';
import { PromptTuningAdaptation } from '../peft/prompt-tuning';
import { ia3AdapterFiles } from './ia3-adapter';
import { loraAdapterFiles } from './lora-adapter';
import { prefixAdapterFiles } from './prefix-adapter';
import { promptAdapterFiles } from './prompt-adapter';

// PEFT v0.20.0 dataclass fields (peft/config.py, tuners/*/config.py).
const peftConfig = [
  'task_type',
  'peft_type',
  'auto_mapping',
  'peft_version',
  'base_model_name_or_path',
  'revision',
  'inference_mode',
];
const promptLearningConfig = [
  ...peftConfig,
  'num_virtual_tokens',
  'token_dim',
  'num_transformer_submodules',
  'num_attention_heads',
  'num_layers',
  'modules_to_save',
];
const fieldsByPeftType: Record<string, string[]> = {
  LORA: [
    ...peftConfig,
    'r',
    'target_modules',
    'exclude_modules',
    'lora_alpha',
    'lora_dropout',
    'fan_in_fan_out',
    'bias',
    'use_rslora',
    'modules_to_save',
    'init_lora_weights',
    'layers_to_transform',
    'layers_pattern',
    'rank_pattern',
    'alpha_pattern',
    'megatron_config',
    'megatron_core',
    'trainable_token_indices',
    'loftq_config',
    'eva_config',
    'corda_config',
    'lora_ga_config',
    'use_dora',
    'velora_config',
    'alora_invocation_tokens',
    'use_qalora',
    'qalora_group_size',
    'monteclora_config',
    'layer_replication',
    'lora_bias',
    'target_parameters',
    'use_bdlora',
    'arrow_config',
    'ensure_weight_tying',
  ],
  IA3: [
    ...peftConfig,
    'target_modules',
    'exclude_modules',
    'feedforward_modules',
    'fan_in_fan_out',
    'modules_to_save',
    'init_ia3_weights',
  ],
  PROMPT_TUNING: [
    ...promptLearningConfig,
    'prompt_tuning_init',
    'prompt_tuning_init_text',
    'tokenizer_name_or_path',
    'tokenizer_kwargs',
  ],
  PREFIX_TUNING: [...promptLearningConfig, 'init_weights', 'encoder_hidden_size', 'prefix_projection'],
};

type Json = Record<string, unknown>;

/** The base model's linear modules as transformers names them, with their weights' stored shapes. */
function linearModules(family: TinyFamily, files: Record<string, Uint8Array | string>) {
  const bytes = files['model.safetensors'] as Uint8Array;
  const modules = new Map<string, number[]>();
  for (const entry of parseSafetensorsHeader('model.safetensors', bytes)) {
    if (!entry.name.endsWith('.weight') || entry.shape.length !== 2) continue;
    let name = entry.name.slice(0, -'.weight'.length);
    if (family === 'gpt2' && !name.startsWith('transformer.')) name = `transformer.${name}`;
    // Embeddings (embed_tokens, wte, wpe) and the LM head are never among these methods' targets.
    if (/^(model\.layers|transformer\.h)\.\d+\./.test(name)) modules.set(name, entry.shape);
  }
  return modules;
}

function isTargeted(name: string, targets: unknown): boolean {
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(name);
  return (targets as string[]).some((t) => name === t || name.endsWith(`.${t}`));
}

function isFeedforward(name: string, feedforward: unknown): boolean {
  if (typeof feedforward === 'string') return new RegExp(`^(?:${feedforward})$`).test(name);
  return (feedforward as string[]).some((f) => name.endsWith(f));
}

/** What get_peft_model_state_dict saves for this config on this base model. */
function peftExpectedKeys(family: TinyFamily, files: Record<string, Uint8Array | string>, config: Json) {
  const base = JSON.parse(files['config.json'] as string) as Json;
  const keys = new Map<string, number[]>();
  const conv1d = family === 'gpt2';
  const tuner = config.peft_type === 'LORA' || config.peft_type === 'IA3';
  for (const [name, shape] of tuner ? linearModules(family, files) : []) {
    if (!isTargeted(name, config.target_modules)) continue;
    const [first, second] = shape as [number, number];
    const [out, inFeatures] = conv1d ? [second, first] : [first, second];
    const prefix = `base_model.model.${name}`;
    if (config.peft_type === 'LORA') {
      keys.set(`${prefix}.lora_A.weight`, [config.r as number, inFeatures]);
      keys.set(`${prefix}.lora_B.weight`, [out, config.r as number]);
      if (config.use_dora) keys.set(`${prefix}.lora_magnitude_vector`, [out]);
    } else if (config.peft_type === 'IA3') {
      keys.set(
        `${prefix}.ia3_l`,
        isFeedforward(name, config.feedforward_modules) ? [1, inFeatures] : [out, 1],
      );
    }
  }
  const hidden = (base.hidden_size ?? base.n_embd) as number;
  const heads = (base.num_attention_heads ?? base.n_head) as number;
  const layers = (base.num_hidden_layers ?? base.n_layer) as number;
  const nvt = config.num_virtual_tokens as number;
  if (config.peft_type === 'PROMPT_TUNING') keys.set('prompt_embeddings', [nvt * 1, hidden]);
  if (config.peft_type === 'PREFIX_TUNING') {
    const kvHeads = (base.num_key_value_heads as number | undefined) ?? heads;
    const tokenDim = (hidden / heads) * kvHeads;
    keys.set('prompt_embeddings', [nvt, layers * 2 * tokenDim]);
    expect(config.token_dim).toBe(tokenDim);
    expect(config.num_attention_heads).toBe(kvHeads);
  }
  if (config.peft_type === 'PROMPT_TUNING') {
    expect(config.token_dim).toBe(hidden);
    expect(config.num_attention_heads).toBe(heads);
  }
  if (config.peft_type === 'PROMPT_TUNING' || config.peft_type === 'PREFIX_TUNING') {
    expect(config.num_layers).toBe(layers);
    expect(config.num_transformer_submodules).toBe(1);
  }
  return keys;
}

type Make = (
  runtime: Awaited<ReturnType<typeof testRuntime>>,
  model: Awaited<ReturnType<typeof createDecoderModel>>,
) => Promise<WrittenAdapter>;

const methods: [string, Make, Json][] = [
  [
    'LoRA, PEFT default targets',
    (r, m) => loraAdapterFiles(r, m, new LoraAdaptation(r, m, { r: 4, alpha: 8, seed: 1 }), 'base'),
    { peft_type: 'LORA', r: 4, lora_alpha: 8, use_rslora: false, use_dora: false },
  ],
  [
    'rsLoRA, all-linear',
    (r, m) =>
      loraAdapterFiles(
        r,
        m,
        new LoraAdaptation(r, m, { r: 2, alpha: 4, targetModules: 'all-linear', useRslora: true, seed: 1 }),
        'base',
      ),
    { peft_type: 'LORA', r: 2, lora_alpha: 4, use_rslora: true, use_dora: false },
  ],
  [
    'DoRA, all-linear',
    async (r, m) =>
      loraAdapterFiles(
        r,
        m,
        await DoraAdaptation.create(r, m, { r: 3, alpha: 6, targetModules: 'all-linear', seed: 1 }),
        'base',
      ),
    { peft_type: 'LORA', r: 3, lora_alpha: 6, use_dora: true },
  ],
  [
    'IA3, PEFT defaults',
    (r, m) => ia3AdapterFiles(r, m, new Ia3Adaptation(r, m, {}), 'base'),
    { peft_type: 'IA3' },
  ],
  [
    'IA3, all-linear',
    (r, m) => ia3AdapterFiles(r, m, new Ia3Adaptation(r, m, { targetModules: 'all-linear' }), 'base'),
    { peft_type: 'IA3' },
  ],
  [
    'prompt tuning',
    (r, m) =>
      promptAdapterFiles(r, m, new PromptTuningAdaptation(r, m, { numVirtualTokens: 3, seed: 1 }), 'base'),
    { peft_type: 'PROMPT_TUNING', num_virtual_tokens: 3 },
  ],
  [
    'prefix tuning',
    (r, m) =>
      prefixAdapterFiles(m, new PrefixTuningAdaptation(r, m, { numVirtualTokens: 3, seed: 1 }), 'base'),
    { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 3, prefix_projection: false },
  ],
  [
    'prefix tuning with the MLP',
    (r, m) =>
      prefixAdapterFiles(
        m,
        new PrefixTuningAdaptation(r, m, {
          numVirtualTokens: 2,
          prefixProjection: true,
          encoderHiddenSize: 8,
          seed: 1,
        }),
        'base',
      ),
    { peft_type: 'PREFIX_TUNING', num_virtual_tokens: 2, prefix_projection: true, encoder_hidden_size: 8 },
  ],
];

const families: TinyFamily[] = ['llama', 'gpt2'];

describe('adapter folders load in PEFT with no missing or unexpected keys', () => {
  for (const family of families) {
    it.each(methods)(`${family}: %s`, async (_, make, settings) => {
      const runtime = await testRuntime();
      const files = tinyModelFiles({ family });
      const model = await createDecoderModel(runtime, await openCheckpoint(filesFromMemory(files)));
      const written = await make(runtime, model);
      const config = JSON.parse(written['adapter_config.json']) as Json;

      // The config: exactly PEFT's dataclass fields for its peft_type, with the settings trained.
      const fields = fieldsByPeftType[config.peft_type as string];
      expect(fields, `peft_type ${String(config.peft_type)}`).toBeDefined();
      expect(Object.keys(config).sort()).toEqual([...new Set(fields)].sort());
      expect(config).toMatchObject({ ...settings, task_type: 'CAUSAL_LM', base_model_name_or_path: 'base' });
      expect(config.inference_mode).toBe(true);
      if (config.peft_type === 'LORA' || config.peft_type === 'IA3')
        expect(config.fan_in_fan_out).toBe(family === 'gpt2');

      // The tensors: exactly the keys and shapes PEFT derives from that config and the base model.
      const bytes = written['adapter_model.safetensors'];
      const saved = new Map(
        parseSafetensorsHeader('adapter_model.safetensors', bytes).map((e) => [e.name, e.shape]),
      );
      const want = peftExpectedKeys(family, files, config);
      expect(want.size).toBeGreaterThan(0);
      expect([...saved.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [name, shape] of want) expect(saved.get(name), name).toEqual(shape);
    });
  }
});
