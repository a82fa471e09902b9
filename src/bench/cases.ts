/**
 * What the benchmark runs: model shapes × training methods, each with its batch and step counts.
 *
 * Shapes: the tiny Llama test fixture (tinyModelFiles, as the tests use it); a ~10M-parameter Llama
 * shape; SmolLM2-135M's real shape (HuggingFaceTB/SmolLM2-135M config.json) with random weights, for
 * GPU runs only (`--gpu`). Random weights for the two larger shapes follow HF's init scale (uniform with
 * std 0.02, norm weights 1), so activations and the loss stay in a realistic range; they are stored in
 * BF16, as SmolLM2 and most hub checkpoints are, so Whetstone keeps frozen matrices in half precision
 * (src/train/models/weight-storage.ts) where tfjs widens everything to f32.
 * Methods: LoRA r=8 and r=64 (alpha = 2r, PEFT's default targets q_proj and v_proj, no dropout), full
 * SFT (every parameter), IA3 (PEFT's default targets k_proj, v_proj, down_proj). Every case uses the same
 * optimizer on both sides: Adam(W) lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay, no clipping
 * (tfjs's Adam has neither).
 */
import { seededRandom } from '../gpu/testing/random';
import { tinyModelFiles } from '../train/fixtures/tiny-models';
import { writeSafetensors } from '../train/io/safetensors';
import { parseModelConfig } from '../train/models/config';
import { expectedWeights } from '../train/models/weight-shapes';

export type MethodName = 'lora-r8' | 'lora-r64' | 'full' | 'ia3';
export const methodNames: readonly MethodName[] = ['lora-r8', 'lora-r64', 'full', 'ia3'];

export interface ModelShape {
  name: string;
  /** Only with --gpu: too slow for SwiftShader. */
  gpuOnly: boolean;
  /** Batch rows and tokens per row of every step. */
  B: number;
  T: number;
  /** Untimed steps first (pipeline compiles, first-use allocations), then timed ones. */
  warmup: number;
  steps: number;
  files(): Record<string, Uint8Array | string>;
}

export const adamHyperparameters = {
  lr: 1e-3,
  betas: [0.9, 0.999] as [number, number],
  eps: 1e-8,
  weightDecay: 0,
  maxGradNorm: 0,
};

/** A Llama config.json with the given shape. */
function llamaConfigJson(shape: {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  ropeTheta?: number;
  rmsNormEps?: number;
  maxPositions?: number;
}): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: shape.vocab,
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    intermediate_size: shape.intermediate,
    max_position_embeddings: shape.maxPositions ?? 2048,
    rms_norm_eps: shape.rmsNormEps ?? 1e-5,
    rope_theta: shape.ropeTheta ?? 10000,
    hidden_act: 'silu',
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    bos_token_id: 0,
    eos_token_id: 0,
  };
}

/** config.json and model.safetensors with seeded random weights at HF's init scale, stored BF16 as on the hub. */
export function randomModelFiles(configJson: Record<string, unknown>, seed = 1) {
  const config = parseModelConfig(configJson);
  const random = seededRandom(seed);
  const bound = 0.02 * Math.sqrt(3);
  const tensors = [...expectedWeights(config)].map(([name, shape]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const isNorm = name.endsWith('norm.weight');
    for (let i = 0; i < data.length; i++) data[i] = isNorm ? 1 : (random() * 2 - 1) * bound;
    return { name, shape, data, dtype: 'BF16' as const };
  });
  return {
    'config.json': JSON.stringify(configJson),
    'model.safetensors': writeSafetensors(tensors, { format: 'pt' }),
  };
}

export const modelShapes: readonly ModelShape[] = [
  {
    name: 'tiny-fixture',
    gpuOnly: false,
    B: 2,
    T: 32,
    warmup: 2,
    steps: 5,
    files: () => tinyModelFiles({ family: 'llama' }),
  },
  {
    // ≈10.1M parameters: 6 × 1.42M in the blocks, 1.57M in the tied embedding.
    name: 'llama-10m',
    gpuOnly: false,
    B: 1,
    T: 32,
    warmup: 1,
    steps: 3,
    files: () =>
      randomModelFiles(
        llamaConfigJson({ vocab: 4096, hidden: 384, layers: 6, heads: 6, kvHeads: 2, intermediate: 896 }),
      ),
  },
  {
    // HuggingFaceTB/SmolLM2-135M's config.json, random weights.
    name: 'smollm2-135m',
    gpuOnly: true,
    B: 4,
    T: 256,
    warmup: 2,
    steps: 10,
    files: () =>
      randomModelFiles(
        llamaConfigJson({
          vocab: 49152,
          hidden: 576,
          layers: 30,
          heads: 9,
          kvHeads: 3,
          intermediate: 1536,
          ropeTheta: 100000,
          maxPositions: 8192,
        }),
      ),
  },
];

/** One fixed batch of seeded random tokens: every token real, every token a label. */
export function benchBatch(B: number, T: number, V: number, seed = 7) {
  const random = seededRandom(seed);
  const ids = Array.from({ length: B }, () => Array.from({ length: T }, () => Math.floor(random() * V)));
  return {
    ids,
    attentionMask: ids.map((row) => row.map(() => 1)),
    labels: ids.map((row) => [...row]),
  };
}
