// A QLoRA run's job (model.quantization "nf4"): train.py loads the base through transformers'
// BitsAndBytesConfig (NF4, no double quantization, the 4-bit codes stored in the dtype the model trains
// in), requirements.txt pins bitsandbytes and the README says so; a run without quantization mentions none
// of it. Full fine-tuning on a quantized base is refused. The calls are read back by a real python3 (ast),
// keyword arguments as their source text, so the test says what the script passes, not how it is spelled.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../data/load-dataset';
import { ExportJobError, exportJob, jobFiles, parseRunConfig, type RunConfig } from './index';
import { pinnedPackages, quantizationPackages } from './requirements';
import { noPythonReason, pyCompile, python3Available, pythonSettings, runPython } from './testing/python';
import { chatBytes, chatRun, exportedFolder, tinyDecoder } from './testing/run-fixtures';

const nf4 = (run: RunConfig): RunConfig => ({ ...run, model: { ...run.model, quantization: 'nf4' } });

const callReader = `
import ast, json, sys
calls = {}
for node in ast.walk(ast.parse(open(sys.argv[1], encoding="utf-8").read())):
    if isinstance(node, ast.Call):
        kwargs = {k.arg: ast.unparse(k.value) for k in node.keywords}
        calls.setdefault(ast.unparse(node.func), []).append(kwargs)
print(json.dumps(calls))
`;

/** Every call in a Python file by callee, each with its keyword arguments as source text. */
function pythonCalls(path: string): Record<string, Record<string, string>[]> {
  const run = runPython(['-c', callReader, path]);
  if (run.status !== 0) throw new Error(`reading the calls of ${path} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, Record<string, string>[]>;
}

const bitsandbytesWords = /bitsandbytes|BitsAndBytes|quantiz|nf4/i;

describe.skipIf(!python3Available)(
  `QLoRA job: train.py through python3 (skipped only if ${noPythonReason})`,
  () => {
    it('a quantized LoRA run loads its base as 4-bit NF4, codes stored in the dtype it trains in', async () => {
      const { dir } = await exportedFolder(
        nf4(chatRun({ method: 'lora', r: 2, alpha: 4 })),
        tinyDecoder('llama'),
      );
      const script = join(dir, 'train.py');
      expect(pyCompile(script)).toMatchObject({ status: 0, stderr: '' });
      expect(pythonSettings(script).QUANTIZATION).toBe('nf4');

      const calls = pythonCalls(script);
      expect(calls.BitsAndBytesConfig).toEqual([
        {
          load_in_4bit: 'True',
          bnb_4bit_quant_type: 'QUANTIZATION',
          bnb_4bit_use_double_quant: 'False',
          bnb_4bit_compute_dtype: 'dtype',
          bnb_4bit_quant_storage: 'dtype',
        },
      ]);
      expect(calls['AutoModelForCausalLM.from_pretrained']).toEqual([
        {
          revision: 'MODEL_REVISION',
          dtype: 'dtype',
          attn_implementation: 'ATTN_IMPLEMENTATION',
          quantization_config: 'quantization_config',
        },
      ]);
      // One dtype for the load, the compute and the stored codes: bf16 with mixed precision, else float32.
      const text = readFileSync(script, 'utf8');
      expect(text).toContain('    dtype = torch.bfloat16 if bf16 else torch.float32\n');
      expect(text).toContain(
        'from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig\n',
      );
    });

    it('every PEFT method on a quantized base compiles', async () => {
      const methods = ['dora', 'ia3', 'prompt', 'prefix'];
      for (const method of methods) {
        const { dir } = await exportedFolder(nf4(chatRun({ method })), tinyDecoder('qwen2'));
        expect(pyCompile(join(dir, 'train.py')), method).toMatchObject({ status: 0, stderr: '' });
      }
    });

    it('a run without quantization loads float32 weights, as before, and calls no BitsAndBytesConfig', async () => {
      const { dir } = await exportedFolder(chatRun({ method: 'lora', r: 2, alpha: 4 }), tinyDecoder('llama'));
      const script = join(dir, 'train.py');
      expect(pythonSettings(script)).not.toHaveProperty('QUANTIZATION');
      const calls = pythonCalls(script);
      expect(calls).not.toHaveProperty('BitsAndBytesConfig');
      expect(calls['AutoModelForCausalLM.from_pretrained']).toEqual([
        { revision: 'MODEL_REVISION', dtype: 'torch.float32', attn_implementation: 'ATTN_IMPLEMENTATION' },
      ]);
    });
  },
);

describe('QLoRA job: what it writes and what it refuses', () => {
  it('pins bitsandbytes and says so in the README only for a quantized base', async () => {
    const plain = (await exportedFolder(chatRun({ method: 'lora' }), tinyDecoder('llama'))).files;
    for (const name of ['train.py', 'requirements.txt', 'README.md', 'run-config.json'])
      expect(plain[name], name).not.toMatch(bitsandbytesWords);

    const run = nf4(chatRun({ method: 'lora' }));
    const files = (await exportedFolder(run, tinyDecoder('llama'))).files;
    const pins = (files['requirements.txt'] ?? '').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(pins.sort()).toEqual(
      Object.entries({ ...pinnedPackages, bitsandbytes: '0.50.2' })
        .map(([name, version]) => `${name}==${version}`)
        .sort(),
    );
    expect(quantizationPackages).toEqual({ bitsandbytes: '0.50.2' });
    const readme = files['README.md'] ?? '';
    expect(readme).toContain(
      'The run loads its base in 4-bit NF4 (QLoRA), as the browser run did: bitsandbytes quantizes the\n' +
        "decoder layers' linear weights as they load (embeddings and lm_head stay as they are), so it needs a CUDA GPU.",
    );
    expect(readme).toContain('whetstone eval --model HuggingFaceTB/SmolLM2-135M-Instruct --quantize nf4');
    expect(parseRunConfig(JSON.parse(files['run-config.json'] ?? ''))).toEqual(run);
  });

  it('refuses full fine-tuning on a quantized base, also from a run config built in code', async () => {
    const run = nf4(chatRun({ method: 'full' }));
    await expect(
      exportJob({ run, model: tinyDecoder('llama'), dataset: { name: 'chat.jsonl', bytes: chatBytes } }),
    ).rejects.toThrow(ExportJobError);
    const loaded = await loadDataset('chat.jsonl', chatBytes);
    expect(() => jobFiles(run, tinyDecoder('llama'), loaded)).toThrow(
      /Full fine-tuning trains every weight, so its base cannot load quantized to nf4/,
    );
  });
});
