/**
 * A kept adapter as one download: its folder zipped (fflate), as PEFT's save_pretrained writes it
 * (adapter_config.json, adapter_model.safetensors) plus a README.md model card in the Hugging Face
 * format (YAML front matter with base_model and library_name: peft). Loadable with
 * PeftModel.from_pretrained(base, folder) once unzipped.
 */
import { zipSync } from 'fflate';
import { configFileOf } from '../state/adapter-files';
import type { AdapterEntry } from '../state/adapter-store';

export function folderName(entry: Pick<AdapterEntry, 'name' | 'id'>): string {
  const slug = entry.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `${slug || 'adapter'}-${entry.id.slice(0, 8)}`;
}

export function modelCard(entry: AdapterEntry): string {
  const front = [
    '---',
    ...(entry.baseModel ? [`base_model: ${entry.baseModel}`] : []),
    entry.peftType === 'BOTTLENECK' ? 'library_name: whetstone' : 'library_name: peft',
    'tags:',
    '- whetstone',
    `- ${entry.method}`,
    '---',
  ];
  const facts = [
    `- Method: ${entry.method} (${entry.peftType})`,
    `- Base model: ${entry.baseModel ?? 'not recorded'}`,
    `- Created: ${new Date(entry.createdAt).toISOString()}`,
    ...(entry.trainableParams !== undefined ? [`- Trainable parameters: ${entry.trainableParams}`] : []),
    ...(entry.finalValLoss !== undefined
      ? [`- Final validation loss (measured): ${entry.finalValLoss}`]
      : []),
  ];
  const use =
    entry.peftType === 'BOTTLENECK'
      ? [
          "Bottleneck adapters are not a PEFT type; this folder uses Whetstone's documented format",
          '(whetstone_adapter_config.json, whetstone_adapter.safetensors). Load it with the `whetstone` CLI.',
        ]
      : [
          '```python',
          'from peft import PeftModel',
          'from transformers import AutoModelForCausalLM',
          '',
          `base = AutoModelForCausalLM.from_pretrained("${entry.baseModel ?? 'BASE_MODEL'}")`,
          `model = PeftModel.from_pretrained(base, "${folderName(entry)}")`,
          '```',
        ];
  return [
    ...front,
    '',
    `# ${entry.name}`,
    '',
    'Trained in the browser with Whetstone.',
    '',
    ...facts,
    '',
    '## Use',
    '',
    ...use,
    '',
  ].join('\n');
}

/** The zip's bytes: one folder holding the adapter's files and its model card. */
export function adapterZip(entry: AdapterEntry): Uint8Array {
  const folder = folderName(entry);
  const files: Record<string, Uint8Array> = {};
  for (const [name, data] of Object.entries(entry.files)) files[`${folder}/${name}`] = data;
  if (!entry.files['README.md']) files[`${folder}/README.md`] = new TextEncoder().encode(modelCard(entry));
  // Keep the config first, as a person unzipping by hand expects to see it.
  const ordered = Object.fromEntries(
    Object.entries(files).sort(([a], [b]) =>
      a.endsWith(configFileOf(entry.files))
        ? -1
        : b.endsWith(configFileOf(entry.files))
          ? 1
          : a.localeCompare(b),
    ),
  );
  return zipSync(ordered, { level: 6 });
}
