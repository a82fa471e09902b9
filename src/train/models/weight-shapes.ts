/**
 * The tensors a checkpoint must hold for a config, with their shapes, in Hugging Face's names.
 * Checked against the safetensors header before any GPU work, so a wrong or truncated model is
 * reported by name. GPT-2's Conv1D weights are stored [in, out].
 */
import type { DecoderConfig } from './config';

export type WeightShapes = Map<string, number[]>;

export function expectedWeights(c: DecoderConfig): WeightShapes {
  return c.family === 'gpt2' ? gpt2Weights(c) : llamaWeights(c);
}

function llamaWeights(c: DecoderConfig): WeightShapes {
  const w: WeightShapes = new Map();
  w.set('model.embed_tokens.weight', [c.V, c.C]);
  for (let i = 0; i < c.L; i++) {
    const p = `model.layers.${i}`;
    w.set(`${p}.input_layernorm.weight`, [c.C]);
    w.set(`${p}.post_attention_layernorm.weight`, [c.C]);
    if (c.gemma) {
      w.set(`${p}.pre_feedforward_layernorm.weight`, [c.C]);
      w.set(`${p}.post_feedforward_layernorm.weight`, [c.C]);
    }
    w.set(`${p}.self_attn.q_proj.weight`, [c.NH * c.D, c.C]);
    w.set(`${p}.self_attn.k_proj.weight`, [c.KV * c.D, c.C]);
    w.set(`${p}.self_attn.v_proj.weight`, [c.KV * c.D, c.C]);
    w.set(`${p}.self_attn.o_proj.weight`, [c.C, c.NH * c.D]);
    if (c.qkNorm) {
      w.set(`${p}.self_attn.q_norm.weight`, [c.D]);
      w.set(`${p}.self_attn.k_norm.weight`, [c.D]);
    }
    if (c.qkvBias) {
      w.set(`${p}.self_attn.q_proj.bias`, [c.NH * c.D]);
      w.set(`${p}.self_attn.k_proj.bias`, [c.KV * c.D]);
      w.set(`${p}.self_attn.v_proj.bias`, [c.KV * c.D]);
    }
    if (c.outBias) w.set(`${p}.self_attn.o_proj.bias`, [c.C]);
    w.set(`${p}.mlp.gate_proj.weight`, [c.F, c.C]);
    w.set(`${p}.mlp.up_proj.weight`, [c.F, c.C]);
    w.set(`${p}.mlp.down_proj.weight`, [c.C, c.F]);
    if (c.mlpBias) {
      w.set(`${p}.mlp.gate_proj.bias`, [c.F]);
      w.set(`${p}.mlp.up_proj.bias`, [c.F]);
      w.set(`${p}.mlp.down_proj.bias`, [c.C]);
    }
  }
  w.set('model.norm.weight', [c.C]);
  if (!c.tieWordEmbeddings) w.set('lm_head.weight', [c.V, c.C]);
  return w;
}

function gpt2Weights(c: DecoderConfig): WeightShapes {
  const w: WeightShapes = new Map();
  w.set('wte.weight', [c.V, c.C]);
  w.set('wpe.weight', [c.P, c.C]);
  for (let i = 0; i < c.L; i++) {
    const p = `h.${i}`;
    for (const ln of ['ln_1', 'ln_2']) {
      w.set(`${p}.${ln}.weight`, [c.C]);
      w.set(`${p}.${ln}.bias`, [c.C]);
    }
    w.set(`${p}.attn.c_attn.weight`, [c.C, 3 * c.C]);
    w.set(`${p}.attn.c_attn.bias`, [3 * c.C]);
    w.set(`${p}.attn.c_proj.weight`, [c.C, c.C]);
    w.set(`${p}.attn.c_proj.bias`, [c.C]);
    w.set(`${p}.mlp.c_fc.weight`, [c.C, c.F]);
    w.set(`${p}.mlp.c_fc.bias`, [c.F]);
    w.set(`${p}.mlp.c_proj.weight`, [c.F, c.C]);
    w.set(`${p}.mlp.c_proj.bias`, [c.C]);
  }
  w.set('ln_f.weight', [c.C]);
  w.set('ln_f.bias', [c.C]);
  if (!c.tieWordEmbeddings) w.set('lm_head.weight', [c.V, c.C]);
  return w;
}

/**
 * Hugging Face checkpoints name the same tensor more than one way: GPT-2 files may prefix
 * "transformer.", and carry the attention-mask buffers (".attn.bias", ".attn.masked_bias") that are
 * not weights. Returns the canonical name, or null for a tensor to skip.
 */
export function canonicalWeightName(c: DecoderConfig, name: string): string | null {
  if (c.family !== 'gpt2') return name;
  const bare = name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
  if (/\.attn\.(bias|masked_bias)$/.test(bare)) return null;
  return bare;
}

/** The token-embedding table's name (the tied LM head reads it too). */
export function embeddingName(config: DecoderConfig): string {
  return config.family === 'gpt2' ? 'wte.weight' : 'model.embed_tokens.weight';
}
