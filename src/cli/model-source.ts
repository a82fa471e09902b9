/**
 * What `--model` names: a local folder in Hugging Face layout, or a hub repo id (owner/name) that is
 * downloaded once into the cache folder (~/.cache/whetstone/hub, or $WHETSTONE_CACHE) with progress on
 * stderr. $HF_TOKEN is sent for gated models; $HF_ENDPOINT points at another hub.
 */
import { existsSync } from 'node:fs';
import { downloadModel } from '../train/io/hub';
import type { ModelFiles } from '../train/io/model-files';
import { nodeModelCache } from '../train/io/node-model-cache';
import { filesFromFolder } from '../train/io/node-model-files';
import { CliUsageError } from './usage-error';

const repoId = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export async function modelFilesFor(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<ModelFiles> {
  if (existsSync(spec)) return filesFromFolder(spec);
  if (!repoId.test(spec)) {
    throw new CliUsageError(
      `--model ${spec} is neither a folder nor a hub repo id such as HuggingFaceTB/SmolLM2-135M-Instruct.`,
    );
  }
  let lastFile = '';
  return downloadModel(spec, {
    cache: nodeModelCache(),
    ...(env.HF_TOKEN ? { accessToken: env.HF_TOKEN } : {}),
    ...(env.HF_ENDPOINT ? { hubUrl: env.HF_ENDPOINT } : {}),
    onProgress: (p) => {
      if (p.loadedBytes < p.totalBytes || p.file === lastFile) return;
      lastFile = p.file;
      const mb = (n: number) => (n / 1e6).toFixed(1);
      process.stderr.write(
        `downloaded ${p.file} (${mb(p.totalBytes)} MB; ${mb(p.overallLoaded)} of ${mb(p.overallTotal)} MB)\n`,
      );
    },
  });
}
