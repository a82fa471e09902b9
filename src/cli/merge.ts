/**
 * `whetstone merge --model DIR --adapter DIR --out DIR`: a LoRA (rsLoRA), DoRA or IA3 adapter merged
 * into its base model's weights as PEFT's merge_and_unload merges it (src/train/export/merge-adapter.ts),
 * written as a Hugging Face model folder that needs no PEFT to load. Prompt, prefix and bottleneck
 * adapters are refused with the reason: they add computation no weight can hold.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hfFolderFiles } from '../train/export/hf-folder';
import { MergeUnsupportedError, mergedModelTensors } from '../train/export/merge-adapter';
import { loadModelForCli } from './load-model';
import { CliUsageError } from './usage-error';

export async function runMerge(flags: { model?: string; adapter?: string; out?: string }): Promise<number> {
  if (!flags.adapter)
    throw new CliUsageError('--adapter DIR is required: a PEFT LoRA, DoRA or IA3 adapter folder.');
  if (!flags.out) throw new CliUsageError('--out DIR is required.');
  const { files, runtime, model, adaptation } = await loadModelForCli(flags.model, flags.adapter, 'full');
  if (!adaptation) throw new CliUsageError('--adapter DIR is required.');
  let merged: Awaited<ReturnType<typeof mergedModelTensors>>;
  try {
    merged = await mergedModelTensors(runtime, model, adaptation);
  } catch (error) {
    // Asking to merge what cannot be merged is a usage error (exit 2), named with the folder.
    if (error instanceof MergeUnsupportedError) throw new CliUsageError(`${flags.adapter}: ${error.message}`);
    throw error;
  }
  mkdirSync(flags.out, { recursive: true });
  for (const [name, content] of Object.entries(await hfFolderFiles(files, merged.tensors)))
    writeFileSync(join(flags.out, name), content);
  process.stdout.write(
    `merged ${merged.layers} ${adaptation.method} layers; wrote the model to ${flags.out}\n`,
  );
  return 0;
}
