/**
 * Reads a Hugging Face `config.json` of an encoder (BERT, DistilBERT, RoBERTa, XLM-RoBERTa) into one
 * typed config. Field names and defaults follow transformers' BertConfig, DistilBertConfig and
 * RobertaConfig (XLMRobertaConfig is RobertaConfig under another name, and its model RoBERTa's); the three
 * share one post-LayerNorm block and differ in names, position ids and the classification head, which
 * this config records so that bert.ts reads as one model.
 *
 * Dimension letters: V vocabulary, C hidden width, L layers, NH heads, D = C/NH head width,
 * F feed-forward width, P maximum positions, TV token-type vocabulary, K classes.
 */
import { refuseQuantized } from './config';
import { ModelConfigError } from './errors';

export const encoderArchitectures = [
  'BertForSequenceClassification',
  'BertModel',
  'BertForPreTraining',
  'BertForMaskedLM',
  'DistilBertForSequenceClassification',
  'DistilBertModel',
  'DistilBertForMaskedLM',
  'RobertaForSequenceClassification',
  'RobertaModel',
  'RobertaForMaskedLM',
  'XLMRobertaForSequenceClassification',
  'XLMRobertaModel',
  'XLMRobertaForMaskedLM',
] as const;
export type EncoderArchitecture = (typeof encoderArchitectures)[number];

export type EncoderFamily = 'bert' | 'distilbert' | 'roberta';

/** The sequence-classification head, as each family's *ForSequenceClassification builds it. */
export interface ClassifierHead {
  /** The C → C layer on the first token: BERT's pooler, DistilBERT's pre_classifier, RoBERTa's classifier.dense. */
  dense: string;
  /** Its activation: tanh (BERT pooler, RoBERTa head) or relu (DistilBERT). */
  activation: 'tanh' | 'relu';
  /** The C → K layer: `classifier` (BERT, DistilBERT) or `classifier.out_proj` (RoBERTa). */
  out: string;
}

export interface EncoderConfig {
  architecture: EncoderArchitecture;
  family: EncoderFamily;
  /** Weight-name prefix of the base model: "bert", "distilbert", "roberta". */
  base: string;
  V: number;
  C: number;
  L: number;
  NH: number;
  D: number;
  F: number;
  P: number;
  /** Token-type vocabulary (BERT 2, RoBERTa 1, DistilBERT none: 0). */
  TV: number;
  /** Number of classes (num_labels, or the size of id2label; HF's default is 2). */
  K: number;
  /** layer_norm_eps (BERT 1e-12; DistilBERT fixes 1e-12; roberta-base 1e-5). */
  normEps: number;
  /** hidden_act / activation: "gelu" is the exact erf form HF uses for all three. */
  activation: 'gelu' | 'gelu_new' | 'relu';
  /** pad_token_id: RoBERTa's position ids start after it (padding_idx + 1). */
  padTokenId: number;
  /** Std of HF's normal init for a head the checkpoint lacks (initializer_range, 0.02). */
  initializerRange: number;
  head: ClassifierHead;
  /** Class names by id, from id2label (LABEL_0, LABEL_1, ... when absent). */
  labels: string[];
  /** Dropout in training, as HF's modules apply it (the step turns it on; evaluation never does). */
  dropout: EncoderDropoutConfig;
}

export interface EncoderDropoutConfig {
  /**
   * On the embeddings' output and each block's FFN output (BERT, RoBERTa hidden_dropout_prob; DistilBERT
   * dropout; 0.1), and on the attention output projection where the family has it (`attentionOutput`).
   */
  hidden: number;
  /** BERT and RoBERTa drop the attention output projection; DistilBERT does not. */
  attentionOutput: boolean;
  /**
   * Before the classifier (BERT, RoBERTa: classifier_dropout, else hidden_dropout_prob; DistilBERT
   * seq_classif_dropout, 0.2); RoBERTa's head also drops its input before classifier.dense.
   */
  classifier: number;
  /**
   * On the attention probabilities (attention_probs_dropout_prob, DistilBERT attention_dropout; 0.1),
   * drawn inside the attention kernels, which recompute the mask in their backward.
   */
  attentionProbs: number;
}

type Json = Record<string, unknown>;

function int(json: Json, key: string, fallback?: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ModelConfigError(
      `config.json: "${key}" must be a positive integer, got ${JSON.stringify(json[key])}.`,
    );
  }
  return value;
}

function probability(json: Json, key: string, fallback: number): number {
  const value = num(json, key, fallback);
  if (value < 0 || value >= 1)
    throw new ModelConfigError(`config.json: "${key}" must be in [0, 1), got ${value}.`);
  return value;
}

function num(json: Json, key: string, fallback: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ModelConfigError(`config.json: "${key}" must be a number, got ${JSON.stringify(json[key])}.`);
  }
  return value;
}

const familyByModelType: Record<string, EncoderArchitecture> = {
  bert: 'BertModel',
  distilbert: 'DistilBertModel',
  roberta: 'RobertaModel',
  'xlm-roberta': 'XLMRobertaModel',
};

/**
 * transformers' model types whose names hold "bert" or "roberta", longest first: AutoConfig, given a
 * config.json with no model_type, takes the longest model type found in the repo id or folder path
 * (case-sensitive), so "distilbert-x" is DistilBERT, "albert-x" ALBERT (not run here), "bert-x" BERT.
 */
const nameModelTypes = [
  'roberta-prelayernorm',
  'xlm-roberta-xl',
  'bert-generation',
  'megatron-bert',
  'xlm-roberta',
  'squeezebert',
  'visual_bert',
  'distilbert',
  'deberta-v2',
  'mobilebert',
  'modernbert',
  'camembert',
  'retribert',
  'convbert',
  'flaubert',
  'roc_bert',
  'roberta',
  'deberta',
  'qdqbert',
  'rembert',
  'albert',
  'ibert',
  'bert',
];

/** The model type transformers would infer from a model's name (hub repo id or folder), if any. */
export function modelTypeFromName(modelName: string): string | undefined {
  return nameModelTypes.find((type) => modelName.includes(type));
}

/**
 * The name transformers would match in a ModelFiles source: the repo id of a hub download
 * ("owner/name@rev (cached in …)"), the folder of a dropped folder or a path.
 */
export function modelNameOfSource(source: string): string {
  const hub = /^([\w.-]+(?:\/[\w.-]+)?)@\S+ \(cached in /.exec(source);
  if (hub?.[1]) return hub[1];
  const dropped = /^the folder "(.*)"$/.exec(source);
  if (dropped?.[1]) return dropped[1];
  return (
    source
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .at(-1) ?? source
  );
}

/**
 * The encoder architecture a config.json names, or undefined when it is not an encoder Whetstone runs.
 * With neither "architectures" nor "model_type", `modelName` decides, as transformers' AutoConfig does.
 */
export function encoderArchitectureOf(raw: unknown, modelName?: string): EncoderArchitecture | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const json = raw as Json;
  const listed = Array.isArray(json.architectures) ? json.architectures[0] : undefined;
  if (typeof listed === 'string')
    return (encoderArchitectures as readonly string[]).includes(listed)
      ? (listed as EncoderArchitecture)
      : undefined;
  if (typeof json.model_type === 'string') return familyByModelType[json.model_type];
  const inferred = modelName === undefined ? undefined : modelTypeFromName(modelName);
  return inferred === undefined ? undefined : familyByModelType[inferred];
}

/** A config.json that names no model type, but has the fields of BERT's (or DistilBERT's) config. */
export function untypedEncoderFields(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null) return false;
  const json = raw as Json;
  if (json.model_type !== undefined || json.architectures !== undefined) return false;
  const bert = ['type_vocab_size', 'intermediate_size', 'num_attention_heads', 'hidden_act'];
  const distilbert = ['n_heads', 'hidden_dim', 'n_layers'];
  return [...bert, ...distilbert].some((key) => key in json);
}

function activationOf(value: unknown): EncoderConfig['activation'] {
  if (value === 'gelu' || value === 'relu') return value;
  if (value === 'gelu_new' || value === 'gelu_pytorch_tanh') return 'gelu_new';
  throw new ModelConfigError(
    `config.json: activation "${String(value)}" is not supported for encoders (supported: gelu, gelu_new, relu).`,
  );
}

function labelsOf(json: Json): string[] {
  const id2label = json.id2label as Record<string, unknown> | undefined;
  if (id2label && typeof id2label === 'object') {
    const ids = Object.keys(id2label)
      .map(Number)
      .sort((a, b) => a - b);
    if (ids.length > 0 && ids.every((id, i) => id === i)) return ids.map((id) => String(id2label[id]));
  }
  const K = json.num_labels == null ? 2 : int(json, 'num_labels');
  return Array.from({ length: K }, (_, i) => `LABEL_${i}`);
}

/**
 * Parses an encoder config.json; `numLabels` overrides the checkpoint's class count (a fresh head);
 * `modelName` (repo id or folder) stands in for a missing model_type as in transformers.
 */
export function parseEncoderConfig(raw: unknown, numLabels?: number, modelName?: string): EncoderConfig {
  const architecture = encoderArchitectureOf(raw, modelName);
  if (!architecture && untypedEncoderFields(raw)) {
    const named = modelName === undefined ? '' : ` "${modelName}"`;
    const other = modelName === undefined ? undefined : modelTypeFromName(modelName);
    const why = other
      ? `and transformers would read the name${named} as model type "${other}", which Whetstone does not run`
      : `and the model's name${named} does not say which encoder it is (transformers looks for "bert", "distilbert" or "roberta" in it)`;
    throw new ModelConfigError(
      `config.json has no "model_type" and no "architectures", ${why}. If it is BERT, add "model_type": "bert" (or "distilbert", "roberta") to config.json.`,
    );
  }
  if (!architecture) {
    throw new ModelConfigError(
      `config.json does not describe an encoder Whetstone runs (supported: ${encoderArchitectures.join(', ')}).`,
    );
  }
  const json = raw as Json;
  refuseQuantized(json);
  let labels = labelsOf(json);
  if (numLabels !== undefined) {
    if (!(Number.isInteger(numLabels) && numLabels >= 2))
      throw new ModelConfigError(`A classifier needs at least 2 classes, got ${numLabels}.`);
    if (numLabels !== labels.length) labels = Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`);
  }
  const shared = {
    architecture,
    V: int(json, 'vocab_size'),
    K: labels.length,
    labels,
    padTokenId: typeof json.pad_token_id === 'number' ? json.pad_token_id : 0,
    initializerRange: num(json, 'initializer_range', 0.02),
  };
  if (architecture.startsWith('DistilBert')) {
    const C = int(json, 'dim', 768);
    const NH = int(json, 'n_heads', 12);
    if (C % NH !== 0) throw new ModelConfigError(`config.json: dim ${C} is not a multiple of n_heads ${NH}.`);
    if (json.sinusoidal_pos_embds === true)
      throw new ModelConfigError(
        'config.json: sinusoidal_pos_embds is not supported; use learned positions.',
      );
    return {
      ...shared,
      family: 'distilbert',
      base: 'distilbert',
      C,
      L: int(json, 'n_layers', 6),
      NH,
      D: C / NH,
      F: int(json, 'hidden_dim', 4 * C),
      P: int(json, 'max_position_embeddings', 512),
      TV: 0,
      normEps: 1e-12,
      activation: activationOf(json.activation ?? 'gelu'),
      head: { dense: 'pre_classifier', activation: 'relu', out: 'classifier' },
      dropout: {
        hidden: probability(json, 'dropout', 0.1),
        attentionOutput: false,
        classifier: probability(json, 'seq_classif_dropout', 0.2),
        attentionProbs: probability(json, 'attention_dropout', 0.1),
      },
    };
  }
  const roberta = architecture.startsWith('Roberta') || architecture.startsWith('XLMRoberta');
  const C = int(json, 'hidden_size');
  const NH = int(json, 'num_attention_heads');
  if (C % NH !== 0)
    throw new ModelConfigError(`config.json: hidden_size ${C} is not a multiple of ${NH} attention heads.`);
  if (json.position_embedding_type != null && json.position_embedding_type !== 'absolute')
    throw new ModelConfigError(
      `config.json: position_embedding_type "${String(json.position_embedding_type)}" is not supported (supported: absolute).`,
    );
  return {
    ...shared,
    padTokenId: typeof json.pad_token_id === 'number' ? json.pad_token_id : roberta ? 1 : 0,
    family: roberta ? 'roberta' : 'bert',
    base: roberta ? 'roberta' : 'bert',
    C,
    L: int(json, 'num_hidden_layers'),
    NH,
    D: C / NH,
    F: int(json, 'intermediate_size'),
    P: int(json, 'max_position_embeddings', 512),
    TV: int(json, 'type_vocab_size', 2),
    normEps: num(json, 'layer_norm_eps', 1e-12),
    activation: activationOf(json.hidden_act ?? 'gelu'),
    head: roberta
      ? { dense: 'classifier.dense', activation: 'tanh', out: 'classifier.out_proj' }
      : { dense: 'bert.pooler.dense', activation: 'tanh', out: 'classifier' },
    dropout: {
      hidden: probability(json, 'hidden_dropout_prob', 0.1),
      attentionOutput: true,
      classifier:
        json.classifier_dropout == null
          ? probability(json, 'hidden_dropout_prob', 0.1)
          : probability(json, 'classifier_dropout', 0.1),
      attentionProbs: probability(json, 'attention_probs_dropout_prob', 0.1),
    },
  };
}

/** Tells an encoder's config from a decoder's (methods shared by both read different fields). */
export function isEncoderConfig(c: { readonly family: string }): c is EncoderConfig {
  return c.family === 'bert' || c.family === 'distilbert' || c.family === 'roberta';
}
