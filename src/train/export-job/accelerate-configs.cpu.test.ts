// The accelerate/*.yaml files of an exported job (accelerate-configs.ts): PyYAML reads each as the launch
// it names, with the run's gradient accumulation and clipping in DeepSpeed's config and the family's
// decoder-layer class as FSDP's wrap unit; without PyYAML, the key lines are checked as text.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pythonYaml, pyyamlAvailable } from './testing/python';
import { chatRun, chatTraining, exportedFolder, tinyDecoder } from './testing/run-fixtures';

describe('export-job: accelerate configs', () => {
  const check = (yaml: Record<string, unknown>, expected: { distributed: string; processes: number }) => {
    expect(yaml.distributed_type).toBe(expected.distributed);
    expect(yaml.num_processes).toBe(expected.processes);
    expect(yaml.num_machines).toBe(1);
    expect(yaml.mixed_precision).toBe('bf16');
  };

  it.skipIf(!pyyamlAvailable)(
    'parse with PyYAML and carry the run’s accumulation, clipping and layer class',
    async () => {
      const { dir } = await exportedFolder(chatRun({ method: 'lora' }), tinyDecoder('qwen2'));
      const read = (name: string) => pythonYaml(join(dir, 'accelerate', name)) as Record<string, unknown>;
      check(read('single_gpu.yaml'), { distributed: 'NO', processes: 1 });
      for (const [name, stage] of [
        ['deepspeed_zero2.yaml', 2],
        ['deepspeed_zero3.yaml', 3],
      ] as const) {
        const yaml = read(name);
        check(yaml, { distributed: 'DEEPSPEED', processes: 8 });
        expect(yaml.deepspeed_config).toMatchObject({
          zero_stage: stage,
          gradient_accumulation_steps: chatTraining.gradAccum,
          gradient_clipping: chatTraining.maxGradNorm,
          zero3_init_flag: stage === 3,
        });
      }
      const fsdp = read('fsdp.yaml');
      check(fsdp, { distributed: 'FSDP', processes: 8 });
      expect(fsdp.fsdp_config).toMatchObject({
        fsdp_transformer_layer_cls_to_wrap: 'Qwen2DecoderLayer',
        fsdp_auto_wrap_policy: 'TRANSFORMER_BASED_WRAP',
        fsdp_version: 2,
      });
    },
  );

  it('hold the key lines, whatever YAML reader there is', async () => {
    const { files } = await exportedFolder(chatRun({ method: 'lora' }), tinyDecoder('gpt2'));
    const zero2 = files['accelerate/deepspeed_zero2.yaml'] ?? '';
    expect(zero2).toMatch(/^distributed_type: "DEEPSPEED"$/m);
    expect(zero2).toMatch(/^ {2}gradient_accumulation_steps: 5$/m);
    expect(zero2).toMatch(/^ {2}gradient_clipping: 0\.7$/m);
    expect(zero2).toMatch(/^ {2}zero_stage: 2$/m);
    expect(files['accelerate/fsdp.yaml']).toMatch(/^ {2}fsdp_transformer_layer_cls_to_wrap: "GPT2Block"$/m);
    expect(files['accelerate/single_gpu.yaml']).toMatch(/^num_processes: 1$/m);
  });
});
