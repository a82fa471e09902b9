// `whetstone export-job` as the CLI runs it (runExportJob, no GPU needed): reads the run config and the
// data beside it, the model's config.json from a local folder, writes the job folder, refuses by name.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExportJobError, RunConfigError } from '../train/export-job';
import { noPythonReason, pyCompile, python3Available, writeTemp } from '../train/export-job/testing/python';
import { tinyModelFiles } from '../train/fixtures/tiny-models';
import { runExportJob } from './export-job';
import { CliUsageError } from './usage-error';

function project(method: Record<string, unknown>): string {
  const rows = Array.from({ length: 8 }, (_, i) =>
    JSON.stringify({ prompt: `Q${i}:`, completion: ` A${i}` }),
  );
  const dir = writeTemp({
    'data/train.jsonl': rows.join('\n'),
    'run.json': JSON.stringify({
      model: { id: 'tiny-llama' },
      method,
      training: { steps: 20, lr: 1e-3 },
      data: { file: 'data/train.jsonl', validationFraction: 0.25 },
    }),
  });
  mkdirSync(join(dir, 'tiny-llama'));
  for (const [name, content] of Object.entries(tinyModelFiles({ family: 'llama' })))
    writeFileSync(join(dir, 'tiny-llama', name), content);
  return dir;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('whetstone export-job', () => {
  it('writes the job folder from a run config, data and model found beside it', async () => {
    const dir = project({ method: 'lora', r: 4, alpha: 8 });
    const out = join(dir, 'job');
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    const code = await runExportJob({ 'run-config': join(dir, 'run.json'), out, json: true });
    expect(code).toBe(0);
    const summary = JSON.parse(printed.join('')) as { out: string; files: string[] };
    expect(summary.out).toBe(out);
    for (const name of summary.files) expect(existsSync(join(out, name)), name).toBe(true);
    expect(summary.files).toContain('dataset/validation.jsonl');
    const train = readFileSync(join(out, 'dataset/train.jsonl'), 'utf8').trim().split('\n');
    const validation = readFileSync(join(out, 'dataset/validation.jsonl'), 'utf8').trim().split('\n');
    expect([train.length, validation.length]).toEqual([6, 2]);
    const script = readFileSync(join(out, 'train.py'), 'utf8');
    expect(script).toContain('MODEL_ID = "tiny-llama"');
    expect(script).toContain('from peft import LoraConfig');
  });

  it.skipIf(!python3Available)(
    `writes a train.py that compiles (skipped only if ${noPythonReason})`,
    async () => {
      const dir = project({ method: 'prompt', numVirtualTokens: 4 });
      vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      await runExportJob({ 'run-config': join(dir, 'run.json'), out: join(dir, 'job') });
      expect(pyCompile(join(dir, 'job', 'train.py')).status).toBe(0);
    },
  );

  it('writes a DPO job from a run config with training.preference, and refuses DPO with packing', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const dir = project({ method: 'lora' });
    const pairs = Array.from({ length: 8 }, (_, i) =>
      JSON.stringify({ prompt: `Q${i}:`, chosen: ' a', rejected: ' b' }),
    );
    const config = (data: Record<string, unknown>) =>
      JSON.stringify({
        model: { id: 'tiny-llama' },
        method: { method: 'lora' },
        training: { steps: 5, preference: { beta: 0.2 } },
        data: { file: 'pairs.jsonl', validationFraction: 0.25, ...data },
      });
    writeFileSync(join(dir, 'pairs.jsonl'), pairs.join('\n'));
    writeFileSync(join(dir, 'dpo.json'), config({}));
    await runExportJob({ 'run-config': join(dir, 'dpo.json'), out: join(dir, 'dpo-job') });
    const script = readFileSync(join(dir, 'dpo-job', 'train.py'), 'utf8');
    expect(script).toContain('trainer = DPOTrainer(');
    expect(script).toContain('"beta": 0.2,');
    expect(
      readFileSync(join(dir, 'dpo-job', 'dataset/validation.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(2);
    writeFileSync(join(dir, 'packed.json'), config({ packing: true }));
    await expect(
      runExportJob({ 'run-config': join(dir, 'packed.json'), out: join(dir, 'packed') }),
    ).rejects.toThrow(/"data\.packing": DPO scores each response whole/);
    expect(existsSync(join(dir, 'packed'))).toBe(false);
  });

  it('refuses by name: bottleneck adapters, a bad run config, missing flags', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const bottleneck = project({ method: 'adapter' });
    await expect(
      runExportJob({ 'run-config': join(bottleneck, 'run.json'), out: join(bottleneck, 'job') }),
    ).rejects.toThrow(ExportJobError);
    expect(existsSync(join(bottleneck, 'job'))).toBe(false);
    const typo = project({ method: 'lora', rank: 4 });
    await expect(
      runExportJob({ 'run-config': join(typo, 'run.json'), out: join(typo, 'job') }),
    ).rejects.toThrow(RunConfigError);
    await expect(runExportJob({ out: 'x' })).rejects.toThrow(CliUsageError);
    await expect(runExportJob({ 'run-config': join(typo, 'run.json') })).rejects.toThrow(/--out DIR/);
    await expect(runExportJob({ 'run-config': join(typo, 'nope.json'), out: 'x' })).rejects.toThrow(
      /does not exist/,
    );
  });
});
