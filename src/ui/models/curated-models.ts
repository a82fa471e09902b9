/**
 * The curated hub models the picker offers, each with the shape fields of its hub config.json, so their
 * size, download size and memory plan are known before anything is downloaded (and offline).
 *
 * Sources of the config values (only the fields that change a weight's shape, plus the dtype the weights
 * are stored in; parseModelConfig reads them as it reads the downloaded config.json):
 * - GPT-2: /work/shared/hf-fixtures/gpt2/config.json (byte-exact copy of openai-community/gpt2).
 * - distilgpt2: the GPT-2 config with n_layer 6 (distilbert/distilgpt2 config.json on the hub).
 * - Qwen2.5-0.5B-Instruct: hf-fixtures/qwen2.5-0.5b-instruct/not-exact/config.json (a re-save; the
 *   shape fields equal the hub's). The hub stores bf16 weights.
 * - TinyLlama-1.1B-Chat-v1.0: hf-fixtures/tinyllama-1.1b-chat-v1.0/not-exact/config.json (a re-save;
 *   shape fields equal the hub's). The hub stores bf16 weights.
 * - SmolLM2-135M(-Instruct), SmolLM2-360M-Instruct: the values of the hub config.json files of
 *   HuggingFaceTB/SmolLM2-135M and HuggingFaceTB/SmolLM2-360M-Instruct (no copy in hf-fixtures).
 * - Qwen3-0.6B: the hub config.json of Qwen/Qwen3-0.6B (no copy in hf-fixtures). Its model card gives
 *   0.6B parameters, 0.44B outside the embedding; its model.safetensors (1.5 GB) also stores lm_head,
 *   a copy of the tied embedding, which the loader skips.
 * - SmolLM3-3B: the hub config.json of HuggingFaceTB/SmolLM3-3B (no copy in hf-fixtures), whose shape
 *   fields are SmolLM3Config's defaults; NoPE every fourth layer by default. Two BF16 shards, 6.15 GB.
 * - Llama-3.2-1B-Instruct: the hub config.json of meta-llama/Llama-3.2-1B-Instruct (gated: the hub asks
 *   for Meta's license and an access token); Llama-3 RoPE scaling, tied embeddings, BF16 (2.47 GB).
 * - Gemma-3-270M-it: the hub config.json of google/gemma-3-270m-it (gated: Google's license and an
 *   access token): 170M parameters in the 262,144-token embedding, 100M in 18 layers; BF16 (536 MB).
 * - Gemma-3-1B-it: the hub config.json of google/gemma-3-1b-it (gated, as the 270M): no layer_types,
 *   so every sixth layer is full (sliding_window_pattern 6); 999,885,952 parameters; BF16 (2.0 GB).
 * - Gemma-2-2B-it: the hub config.json of google/gemma-2-2b-it (gated, as Gemma 3): Gemma2Config's
 *   2B shape, 256,000-token vocabulary, soft-caps 50 and 30; two BF16 shards, 5.23 GB.
 * - Weight files that hold more than the parameters (storedParameters): GPT-2's and distilgpt2's also
 *   store each layer's causal-mask buffer `attn.bias` [1, 1, 1024, 1024] (548 MB and 353 MB on the hub).
 * - bert-base-uncased, distilbert-base-uncased, roberta-base, xlm-roberta-base (encoders: their runs train
 *   a sequence classifier): the shape fields of google-bert/bert-base-uncased,
 *   distilbert/distilbert-base-uncased, FacebookAI/roberta-base and FacebookAI/xlm-roberta-base
 *   config.json on the hub. Their published counts are those of
 *   *ForSequenceClassification with two labels (`model.num_parameters()`), which the studio trains: the
 *   hub checkpoints hold the base model (and an MLM head the classifier drops), and the worker adds a
 *   freshly initialised classification head, as transformers does.
 * - BERT-Tiny, google/bert_uncased_L-2_H-128_A-2 (Turc et al. 2019, "Well-Read Students Learn Better"):
 *   BERT-base's config with hidden 128, 2 layers, 2 heads, intermediate 512. Its count is worked out by
 *   hand from those shapes for BertForSequenceClassification with two labels: embeddings 3,972,864
 *   (30522·128 + 512·128 + 2·128 + LayerNorm 256), 2 layers of 198,272, pooler 16,512, classifier 258.
 *   Its config.json has no model_type (read from the repo id) and older repos of this family ship
 *   vocab.txt and pytorch_model.bin rather than tokenizer.json and safetensors; both are read.
 */

export type WeightDtype = 'float32' | 'bfloat16';

export interface CuratedModel {
  /** The hub repo id. */
  repo: string;
  label: string;
  description: string;
  /** The config.json shape fields (enough for parseModelConfig). */
  config: Record<string, unknown>;
  /** The dtype of the hub's weights file: the download is about parameters × its size. */
  dtype: WeightDtype;
  /** The published parameter count (model card / `model.num_parameters()`); the tests hold the planner to it. */
  publishedParameters: number;
  /** Values in the weights file, where it holds more than the parameters (buffers, a tied head's copy). */
  storedParameters?: number;
  /** Absent: a decoder that trains a language model. 'classification': an encoder that trains a classifier. */
  task?: 'classification';
}

const smolLm2_135M = {
  architectures: ['LlamaForCausalLM'],
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  vocab_size: 49152,
  max_position_embeddings: 8192,
  rope_theta: 100000,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
};

const gpt2 = {
  architectures: ['GPT2LMHeadModel'],
  model_type: 'gpt2',
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  n_ctx: 1024,
  vocab_size: 50257,
  layer_norm_epsilon: 1e-5,
  activation_function: 'gelu_new',
};

export const curatedModels: CuratedModel[] = [
  {
    repo: 'HuggingFaceTB/SmolLM2-135M',
    label: 'SmolLM2-135M',
    description: 'A small Llama-style base model; quick to fine-tune.',
    config: smolLm2_135M,
    dtype: 'bfloat16',
    publishedParameters: 134_515_008,
  },
  {
    repo: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    label: 'SmolLM2-135M-Instruct',
    description: 'SmolLM2-135M tuned to follow instructions (chat template).',
    config: smolLm2_135M,
    dtype: 'bfloat16',
    publishedParameters: 134_515_008,
  },
  {
    repo: 'HuggingFaceTB/SmolLM2-360M-Instruct',
    label: 'SmolLM2-360M-Instruct',
    description: 'The 360M SmolLM2, instruction-tuned.',
    config: {
      ...smolLm2_135M,
      hidden_size: 960,
      intermediate_size: 2560,
      num_hidden_layers: 32,
      num_attention_heads: 15,
      num_key_value_heads: 5,
    },
    dtype: 'bfloat16',
    publishedParameters: 361_821_120,
  },
  {
    repo: 'Qwen/Qwen2.5-0.5B-Instruct',
    label: 'Qwen2.5-0.5B-Instruct',
    description: 'Qwen2.5 half-billion instruct model; ChatML template, large vocabulary.',
    config: {
      architectures: ['Qwen2ForCausalLM'],
      hidden_size: 896,
      intermediate_size: 4864,
      num_hidden_layers: 24,
      num_attention_heads: 14,
      num_key_value_heads: 2,
      vocab_size: 151936,
      max_position_embeddings: 32768,
      rope_theta: 1000000,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
    },
    dtype: 'bfloat16',
    publishedParameters: 494_032_768,
  },
  {
    repo: 'Qwen/Qwen3-0.6B',
    label: 'Qwen3-0.6B',
    description: 'Qwen3 0.6B chat model (thinking and non-thinking); per-head q/k norms, ChatML template.',
    config: {
      architectures: ['Qwen3ForCausalLM'],
      hidden_size: 1024,
      intermediate_size: 3072,
      num_hidden_layers: 28,
      num_attention_heads: 16,
      num_key_value_heads: 8,
      head_dim: 128,
      vocab_size: 151936,
      max_position_embeddings: 40960,
      rope_theta: 1000000,
      rms_norm_eps: 1e-6,
      attention_bias: false,
      tie_word_embeddings: true,
    },
    dtype: 'bfloat16',
    publishedParameters: 596_049_920,
    storedParameters: 596_049_920 + 151936 * 1024,
  },
  {
    repo: 'HuggingFaceTB/SmolLM3-3B',
    label: 'SmolLM3-3B',
    description: 'SmolLM3 3B instruct model (NoPE every fourth layer); needs a GPU budget of several GiB.',
    config: {
      architectures: ['SmolLM3ForCausalLM'],
      hidden_size: 2048,
      intermediate_size: 11008,
      num_hidden_layers: 36,
      num_attention_heads: 16,
      num_key_value_heads: 4,
      vocab_size: 128256,
      max_position_embeddings: 65536,
      rope_theta: 5000000,
      rms_norm_eps: 1e-6,
      no_rope_layer_interval: 4,
      tie_word_embeddings: true,
    },
    dtype: 'bfloat16',
    publishedParameters: 3_075_098_624,
  },
  {
    repo: 'google/gemma-3-270m-it',
    label: 'Gemma-3-270M-it',
    description:
      "Google's Gemma 3 270M, instruction-tuned, made for task fine-tuning; gated: accept its license on the hub, then give a token.",
    config: {
      architectures: ['Gemma3ForCausalLM'],
      hidden_size: 640,
      intermediate_size: 2048,
      num_hidden_layers: 18,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      head_dim: 256,
      vocab_size: 262144,
      max_position_embeddings: 32768,
      sliding_window: 512,
      layer_types: Array.from({ length: 18 }, (_, i) =>
        (i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention',
      ),
      query_pre_attn_scalar: 256,
      rope_theta: 1000000,
      rope_local_base_freq: 10000,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
    },
    dtype: 'bfloat16',
    publishedParameters: 268_098_176,
  },
  {
    repo: 'google/gemma-3-1b-it',
    label: 'Gemma-3-1B-it',
    description:
      "Google's Gemma 3 1B, instruction-tuned; gated: accept its license on the hub, then give a token.",
    config: {
      architectures: ['Gemma3ForCausalLM'],
      hidden_size: 1152,
      intermediate_size: 6912,
      num_hidden_layers: 26,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      head_dim: 256,
      vocab_size: 262144,
      max_position_embeddings: 32768,
      sliding_window: 512,
      sliding_window_pattern: 6,
      query_pre_attn_scalar: 256,
      rope_theta: 1000000,
      rope_local_base_freq: 10000,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
    },
    dtype: 'bfloat16',
    publishedParameters: 999_885_952,
  },
  {
    repo: 'google/gemma-2-2b-it',
    label: 'Gemma-2-2B-it',
    description:
      "Google's Gemma 2 2B, instruction-tuned (soft-capped attention and logits); gated: accept its license, then give a token.",
    config: {
      architectures: ['Gemma2ForCausalLM'],
      hidden_size: 2304,
      intermediate_size: 9216,
      num_hidden_layers: 26,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      head_dim: 256,
      vocab_size: 256000,
      max_position_embeddings: 8192,
      sliding_window: 4096,
      query_pre_attn_scalar: 256,
      attn_logit_softcapping: 50,
      final_logit_softcapping: 30,
      rope_theta: 10000,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
    },
    dtype: 'bfloat16',
    publishedParameters: 2_614_341_888,
  },
  {
    repo: 'meta-llama/Llama-3.2-1B-Instruct',
    label: 'Llama-3.2-1B-Instruct',
    description:
      "Meta's 1B Llama 3.2, instruction-tuned; gated: accept its license on the hub, then give a token.",
    config: {
      architectures: ['LlamaForCausalLM'],
      hidden_size: 2048,
      intermediate_size: 8192,
      num_hidden_layers: 16,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      head_dim: 64,
      vocab_size: 128256,
      max_position_embeddings: 131072,
      rope_theta: 500000,
      rope_scaling: {
        rope_type: 'llama3',
        factor: 32,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 8192,
      },
      rms_norm_eps: 1e-5,
      tie_word_embeddings: true,
    },
    dtype: 'bfloat16',
    publishedParameters: 1_235_814_400,
  },
  {
    repo: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
    label: 'TinyLlama-1.1B-Chat',
    description: 'A 1.1B Llama-2-style chat model; near the top of what a tab can train.',
    config: {
      architectures: ['LlamaForCausalLM'],
      hidden_size: 2048,
      intermediate_size: 5632,
      num_hidden_layers: 22,
      num_attention_heads: 32,
      num_key_value_heads: 4,
      vocab_size: 32000,
      max_position_embeddings: 2048,
      rope_theta: 10000,
      rms_norm_eps: 1e-5,
      tie_word_embeddings: false,
    },
    dtype: 'bfloat16',
    publishedParameters: 1_100_048_384,
  },
  {
    repo: 'openai-community/gpt2',
    label: 'GPT-2',
    description: 'The 124M GPT-2 base model (learned positions, LayerNorm, GELU).',
    config: gpt2,
    dtype: 'float32',
    publishedParameters: 124_439_808,
    storedParameters: 124_439_808 + 12 * 1024 * 1024,
  },
  {
    repo: 'distilbert/distilgpt2',
    label: 'distilgpt2',
    description: 'GPT-2 distilled to 6 layers.',
    config: { ...gpt2, n_layer: 6 },
    dtype: 'float32',
    publishedParameters: 81_912_576,
    storedParameters: 81_912_576 + 6 * 1024 * 1024,
  },
  {
    repo: 'google-bert/bert-base-uncased',
    label: 'BERT-base (uncased)',
    description: 'The 110M BERT encoder; trains a text or sentence-pair classifier (GLUE-style).',
    config: {
      architectures: ['BertForMaskedLM'],
      model_type: 'bert',
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      vocab_size: 30522,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-12,
      pad_token_id: 0,
    },
    dtype: 'float32',
    publishedParameters: 109_483_778,
    task: 'classification',
  },
  {
    repo: 'distilbert/distilbert-base-uncased',
    label: 'DistilBERT-base (uncased)',
    description: 'BERT distilled to 6 layers; a faster classifier.',
    config: {
      architectures: ['DistilBertForMaskedLM'],
      model_type: 'distilbert',
      dim: 768,
      n_layers: 6,
      n_heads: 12,
      hidden_dim: 3072,
      vocab_size: 30522,
      max_position_embeddings: 512,
      activation: 'gelu',
      pad_token_id: 0,
    },
    dtype: 'float32',
    publishedParameters: 66_955_010,
    task: 'classification',
  },
  {
    repo: 'FacebookAI/roberta-base',
    label: 'RoBERTa-base',
    description: 'The 125M RoBERTa encoder (byte-level BPE); trains a text or sentence-pair classifier.',
    config: {
      architectures: ['RobertaForMaskedLM'],
      model_type: 'roberta',
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      max_position_embeddings: 514,
      type_vocab_size: 1,
      vocab_size: 50265,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-5,
      pad_token_id: 1,
    },
    dtype: 'float32',
    publishedParameters: 124_647_170,
    task: 'classification',
  },
  {
    repo: 'FacebookAI/xlm-roberta-base',
    label: 'XLM-RoBERTa-base',
    description: 'RoBERTa trained on 100 languages (SentencePiece); a multilingual text or pair classifier.',
    config: {
      architectures: ['XLMRobertaForMaskedLM'],
      model_type: 'xlm-roberta',
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      max_position_embeddings: 514,
      type_vocab_size: 1,
      vocab_size: 250002,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-5,
      pad_token_id: 1,
    },
    dtype: 'float32',
    publishedParameters: 278_045_186,
    task: 'classification',
  },
  {
    repo: 'google/bert_uncased_L-2_H-128_A-2',
    label: 'BERT-Tiny (uncased)',
    description: "Google's 2-layer, 128-wide BERT (4.4M parameters); a classifier that trains in minutes.",
    config: {
      model_type: 'bert',
      hidden_size: 128,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 512,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      vocab_size: 30522,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-12,
      pad_token_id: 0,
    },
    dtype: 'float32',
    publishedParameters: 4_386_178,
    task: 'classification',
  },
];

export const dtypeBytes: Record<WeightDtype, number> = { float32: 4, bfloat16: 2 };
