/**
 * `whetstone export-job --run-config FILE --out DIR [--model DIR]`: writes a run as a folder that runs
 * with `accelerate launch train.py` (TRL + PEFT; see src/train/export-job). The run config's data files
 * are read relative to the run config's folder. The model's config.json comes from --model, or from
 * model.id: a folder there, or a hub repo id (downloaded once into the cache, as --model does elsewhere).
 * Prints the files written (or, with --json, {"out", "files"}).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { exportJob, parseRunConfigJson } from '../train/export-job';
import { readJson } from '../train/io/model-files';
import { type DecoderConfig, parseModelConfig } from '../train/models/config';
import { modelFilesFor } from './model-source';
import { CliUsageError } from './usage-error';

export interface ExportJobFlags {
  'run-config'?: string;
  out?: string;
  model?: string;
  json?: boolean;
}

function readInput(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw new CliUsageError(`${what} ${path} does not exist.`);
  return readFileSync(path);
}

async function modelConfigOf(spec: string, base: string): Promise<DecoderConfig> {
  const local = isAbsolute(spec) ? spec : join(base, spec);
  const files = await modelFilesFor(existsSync(local) ? local : spec);
  if (!files.has('config.json')) throw new CliUsageError(`${files.source} has no config.json.`);
  return parseModelConfig(await readJson(files, 'config.json'));
}

export async function runExportJob(flags: ExportJobFlags): Promise<number> {
  const configPath = flags['run-config'];
  if (!configPath) throw new CliUsageError('--run-config FILE is required: the run config JSON.');
  if (!flags.out) throw new CliUsageError('--out DIR is required: the folder to write the job to.');
  const run = parseRunConfigJson(new TextDecoder().decode(readInput(configPath, '--run-config')), configPath);
  const base = dirname(resolve(configPath));
  const dataPath = (file: string) => (isAbsolute(file) ? file : join(base, file));
  const model = await modelConfigOf(flags.model ?? run.model.id, flags.model ? process.cwd() : base);
  const files = await exportJob({
    run,
    model,
    dataset: { name: run.data.file, bytes: readInput(dataPath(run.data.file), 'The dataset file') },
    ...(run.data.validationFile
      ? {
          validation: {
            name: run.data.validationFile,
            bytes: readInput(dataPath(run.data.validationFile), 'The validation file'),
          },
        }
      : {}),
  });
  for (const [name, content] of Object.entries(files)) {
    const path = join(flags.out, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  const names = Object.keys(files).sort();
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ out: flags.out, files: names })}\n`
      : `wrote ${names.length} files to ${flags.out}: ${names.join(', ')}\n` +
          `run it with: cd ${flags.out} && accelerate launch --config_file accelerate/single_gpu.yaml train.py\n`,
  );
  return 0;
}
