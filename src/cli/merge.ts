/**
 * `whetstone merge --model DIR --adapter DIR --out DIR`: a LoRA adapter merged into its base model's
 * weights, written as a Hugging Face model folder that needs no PEFT to load.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loraScale } from '../gpu/kernels/lora-linear/lora-linear';
import { downloadTensor } from '../gpu/tensor';
import { hfFolderFiles, modelTensors } from '../train/export/hf-folder';
import { mergeLoraWeight } from '../train/export/merge-lora';
import { loadModelForCli } from './load-model';
import { CliUsageError } from './usage-error';

export async function runMerge(flags: { model?: string; adapter?: string; out?: string }): Promise<number> {
  if (!flags.adapter) throw new CliUsageError('--adapter DIR is required: a PEFT LoRA adapter folder.');
  if (!flags.out) throw new CliUsageError('--out DIR is required.');
  const { files, runtime, model, adaptation } = await loadModelForCli(flags.model, flags.adapter);
  if (!adaptation) throw new CliUsageError('--adapter DIR is required.');
  // A LoRA merge would silently drop DoRA's magnitudes.
  if (adaptation.method !== 'lora')
    throw new CliUsageError(`merge takes LoRA adapters; ${flags.adapter} is ${adaptation.method}.`);
  const o = adaptation.options;
  const scale = loraScale({ rank: o.r, alpha: o.alpha, rsLora: o.useRslora });
  const deltas = new Map<
    string,
    { a: Float32Array; b: Float32Array; out: number; in: number; layout: 'out-in' | 'in-out' }
  >();
  for (const [path, w] of adaptation.weights()) {
    deltas.set(`${path}.weight`, {
      a: await downloadTensor(runtime.arena, w.a),
      b: await downloadTensor(runtime.arena, w.b),
      out: w.site.outFeatures,
      in: w.site.inFeatures,
      layout: w.site.base.layout,
    });
  }
  const tensors = await modelTensors(runtime, model.params, (name, data) => {
    const d = deltas.get(name);
    return d ? mergeLoraWeight(data, d.a, d.b, { out: d.out, in: d.in, r: o.r }, scale, d.layout) : data;
  });
  mkdirSync(flags.out, { recursive: true });
  for (const [name, content] of Object.entries(await hfFolderFiles(files, tensors)))
    writeFileSync(join(flags.out, name), content);
  process.stdout.write(`merged ${deltas.size} LoRA layers; wrote the model to ${flags.out}\n`);
  return 0;
}
