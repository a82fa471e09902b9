/**
 * accelerate/*.yaml of an exported job: how `accelerate launch` spreads train.py over GPUs.
 *   single_gpu.yaml       one process, no distribution
 *   deepspeed_zero2.yaml  DeepSpeed ZeRO-2: optimizer state and gradients sharded across GPUs
 *   deepspeed_zero3.yaml  DeepSpeed ZeRO-3: parameters sharded too; the model is gathered in 16 bits to save
 *   fsdp.yaml             PyTorch FSDP2, one wrap unit per decoder layer (the architecture's layer class)
 * Multi-GPU files say 8 processes on 1 machine; `accelerate launch --num_processes N --num_machines M ...`
 * overrides that (README.md). DeepSpeed's gradient accumulation and clipping must equal the Trainer's
 * (transformers refuses a mismatch), so they are written from the run, as SFT_KWARGS are.
 */
import type { DecoderConfig } from '../models/config';
import type { TrainConfig } from '../train-config';
import { type YamlValue, yamlDocument } from './yaml';

/** The transformers class of one decoder layer, FSDP's wrap unit. */
export const decoderLayerClass: Record<DecoderConfig['architecture'], string> = {
  LlamaForCausalLM: 'LlamaDecoderLayer',
  Qwen2ForCausalLM: 'Qwen2DecoderLayer',
  Qwen3ForCausalLM: 'Qwen3DecoderLayer',
  MistralForCausalLM: 'MistralDecoderLayer',
  SmolLM3ForCausalLM: 'SmolLM3DecoderLayer',
  Gemma2ForCausalLM: 'Gemma2DecoderLayer',
  Gemma3ForCausalLM: 'Gemma3DecoderLayer',
  GPT2LMHeadModel: 'GPT2Block',
};

const launcher = {
  compute_environment: 'LOCAL_MACHINE',
  debug: false,
  machine_rank: 0,
  main_training_function: 'main',
  mixed_precision: 'bf16',
  rdzv_backend: 'static',
  same_network: true,
  use_cpu: false,
} as const;

const multi = { ...launcher, num_machines: 1, num_processes: 8 } as const;

function deepspeed(stage: 2 | 3, training: TrainConfig): { [key: string]: YamlValue } {
  return {
    ...multi,
    distributed_type: 'DEEPSPEED',
    deepspeed_config: {
      deepspeed_multinode_launcher: 'standard',
      gradient_accumulation_steps: training.gradAccum,
      gradient_clipping: training.maxGradNorm,
      offload_optimizer_device: 'none',
      offload_param_device: 'none',
      zero3_init_flag: stage === 3,
      ...(stage === 3 ? { zero3_save_16bit_model: true } : {}),
      zero_stage: stage,
    },
  };
}

export function accelerateConfigs(model: DecoderConfig, training: TrainConfig): Record<string, string> {
  return {
    'accelerate/single_gpu.yaml': yamlDocument(
      { ...launcher, distributed_type: 'NO', num_machines: 1, num_processes: 1 },
      'One GPU: accelerate launch --config_file accelerate/single_gpu.yaml train.py',
    ),
    'accelerate/deepspeed_zero2.yaml': yamlDocument(
      deepspeed(2, training),
      'DeepSpeed ZeRO-2 on several GPUs (set --num_processes to the GPU count).',
    ),
    'accelerate/deepspeed_zero3.yaml': yamlDocument(
      deepspeed(3, training),
      'DeepSpeed ZeRO-3 on several GPUs, for models whose weights do not fit on one.',
    ),
    'accelerate/fsdp.yaml': yamlDocument(
      {
        ...multi,
        distributed_type: 'FSDP',
        fsdp_config: {
          fsdp_activation_checkpointing: false,
          fsdp_auto_wrap_policy: 'TRANSFORMER_BASED_WRAP',
          fsdp_cpu_ram_efficient_loading: true,
          fsdp_offload_params: false,
          fsdp_reshard_after_forward: true,
          fsdp_state_dict_type: 'FULL_STATE_DICT',
          fsdp_transformer_layer_cls_to_wrap: decoderLayerClass[model.architecture],
          fsdp_version: 2,
        },
      },
      'PyTorch FSDP2 on several GPUs, one shard unit per decoder layer.',
    ),
  };
}
