/**
 * The tensors an encoder checkpoint must hold, with their shapes, in Hugging Face's names
 * (BertForSequenceClassification, DistilBertForSequenceClassification, RobertaForSequenceClassification),
 * and the canonical name of each stored tensor: old BERT files say LayerNorm.gamma/beta, BertModel files
 * have no "bert." prefix, and pre-training heads (cls.*, vocab_*, lm_head.*) and position-id buffers are
 * not weights of a classifier. All nn.Linear weights are [OUT, IN].
 */
import type { EncoderConfig } from './bert-config';

export type WeightShapes = Map<string, number[]>;

/** The per-layer module names of a family: attention q/k/v/out, the two norms, and the MLP. */
export function encoderLayerNames(c: EncoderConfig, i: number) {
  if (c.family === 'distilbert') {
    const p = `distilbert.transformer.layer.${i}`;
    return {
      query: `${p}.attention.q_lin`,
      key: `${p}.attention.k_lin`,
      value: `${p}.attention.v_lin`,
      attentionOut: `${p}.attention.out_lin`,
      attentionNorm: `${p}.sa_layer_norm`,
      intermediate: `${p}.ffn.lin1`,
      output: `${p}.ffn.lin2`,
      outputNorm: `${p}.output_layer_norm`,
    };
  }
  const p = `${c.base}.encoder.layer.${i}`;
  return {
    query: `${p}.attention.self.query`,
    key: `${p}.attention.self.key`,
    value: `${p}.attention.self.value`,
    attentionOut: `${p}.attention.output.dense`,
    attentionNorm: `${p}.attention.output.LayerNorm`,
    intermediate: `${p}.intermediate.dense`,
    output: `${p}.output.dense`,
    outputNorm: `${p}.output.LayerNorm`,
  };
}

export function embeddingNames(c: EncoderConfig) {
  const p = `${c.base}.embeddings`;
  return {
    word: `${p}.word_embeddings.weight`,
    position: `${p}.position_embeddings.weight`,
    tokenType: c.TV > 0 ? `${p}.token_type_embeddings.weight` : undefined,
    norm: `${p}.LayerNorm`,
  };
}

/** The head's weights, which a base-model checkpoint may lack (then they are initialised as HF does). */
export function headWeights(c: EncoderConfig): WeightShapes {
  return new Map([
    [`${c.head.dense}.weight`, [c.C, c.C]],
    [`${c.head.dense}.bias`, [c.C]],
    [`${c.head.out}.weight`, [c.K, c.C]],
    [`${c.head.out}.bias`, [c.K]],
  ]);
}

export function expectedEncoderWeights(c: EncoderConfig): WeightShapes {
  const w: WeightShapes = new Map();
  const e = embeddingNames(c);
  w.set(e.word, [c.V, c.C]);
  w.set(e.position, [c.P, c.C]);
  if (e.tokenType) w.set(e.tokenType, [c.TV, c.C]);
  w.set(`${e.norm}.weight`, [c.C]);
  w.set(`${e.norm}.bias`, [c.C]);
  const linear = (name: string, out: number, inp: number) => {
    w.set(`${name}.weight`, [out, inp]);
    w.set(`${name}.bias`, [out]);
  };
  for (let i = 0; i < c.L; i++) {
    const n = encoderLayerNames(c, i);
    for (const name of [n.query, n.key, n.value, n.attentionOut]) linear(name, c.C, c.C);
    linear(n.intermediate, c.F, c.C);
    linear(n.output, c.C, c.F);
    for (const norm of [n.attentionNorm, n.outputNorm]) {
      w.set(`${norm}.weight`, [c.C]);
      w.set(`${norm}.bias`, [c.C]);
    }
  }
  for (const [name, shape] of headWeights(c)) w.set(name, shape);
  return w;
}

const notClassifierWeights = [
  /^cls\./,
  /^lm_head\./,
  /^vocab_(transform|layer_norm|projector)\./,
  /\.position_ids$/,
  // A BERT checkpoint's pooler under RoBERTa (RobertaForSequenceClassification has none).
  /^roberta\.pooler\./,
];

/** The canonical name of a stored tensor, or null for one a classifier does not use. */
export function canonicalEncoderWeightName(c: EncoderConfig, stored: string): string | null {
  let name = stored
    .replace(/\.LayerNorm\.gamma$/, '.LayerNorm.weight')
    .replace(/\.LayerNorm\.beta$/, '.LayerNorm.bias');
  // BertModel / RobertaModel / DistilBertModel files name the base model's tensors without its prefix.
  if (/^(embeddings|encoder|pooler|transformer)\./.test(name)) name = `${c.base}.${name}`;
  return notClassifierWeights.some((pattern) => pattern.test(name)) ? null : name;
}
