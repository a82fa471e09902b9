/**
 * Everything needed to run a model folder: the checked checkpoint, its tokenizer (with the chat
 * template, from tokenizer_config.json or chat_template.jinja) and generation_config.json's defaults.
 */
import { ModelFilesError } from '../models/errors';
import { ModelTokenizer } from '../text/tokenizer';
import { type Checkpoint, openCheckpoint } from './checkpoint';
import { type ModelFiles, readJson, readText } from './model-files';

export interface GenerationDefaults {
  eosTokenIds: number[];
  doSample: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
}

export interface ModelBundle {
  checkpoint: Checkpoint;
  tokenizer: ModelTokenizer;
  generation: GenerationDefaults;
}

function ids(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : [];
}

export async function openModelBundle(files: ModelFiles): Promise<ModelBundle> {
  const checkpoint = await openCheckpoint(files);
  if (!files.has('tokenizer.json')) {
    throw new ModelFilesError(
      `${files.source} has no tokenizer.json; Whetstone needs the fast-tokenizer file.`,
    );
  }
  const tokenizerConfig = files.has('tokenizer_config.json')
    ? await readJson(files, 'tokenizer_config.json')
    : {};
  const template = files.has('chat_template.jinja')
    ? await readText(files, 'chat_template.jinja')
    : undefined;
  const tokenizer = new ModelTokenizer(
    await readJson(files, 'tokenizer.json'),
    tokenizerConfig as Record<string, unknown>,
    template,
  );
  const gen = (
    files.has('generation_config.json') ? await readJson(files, 'generation_config.json') : {}
  ) as Record<string, unknown>;
  const eosFromTokenizer =
    tokenizer.eosToken === undefined ? undefined : tokenizer.tokenId(tokenizer.eosToken);
  const eosTokenIds = [
    ...new Set([...checkpoint.config.eosTokenIds, ...ids(gen.eos_token_id), ...ids(eosFromTokenizer)]),
  ];
  return {
    checkpoint,
    tokenizer,
    generation: {
      eosTokenIds,
      doSample: gen.do_sample === true,
      ...(typeof gen.temperature === 'number' ? { temperature: gen.temperature } : {}),
      ...(typeof gen.top_k === 'number' ? { topK: gen.top_k } : {}),
      ...(typeof gen.top_p === 'number' ? { topP: gen.top_p } : {}),
    },
  };
}
