/**
 * The failures of a hub download (hub.ts) as one named error, HubDownloadError, with a `kind` and a
 * message that names the repo and file and says what to do: HTTP statuses from @huggingface/hub's
 * HubApiError (401 gated/private, 403 no access, 404 missing), dropped connections, cancels.
 */
import { HubApiError } from '@huggingface/hub';

/** What an error message needs to know of the download it comes from. */
export interface HubTarget {
  repo: string;
  revision: string;
  hubUrl: string;
  accessToken: string | undefined;
  signal: AbortSignal | undefined;
}

/** Stands for the tree listing in errors, where no single file is at fault. */
export const listingFile = '(file list)';

export type HubFailure =
  | 'unauthorized' // 401: gated or private (or absent, which the hub hides from anonymous callers)
  | 'forbidden' // 403: the token has no access to this repo
  | 'not-found' // 404, or a file the model needs is not in the repo
  | 'unsupported' // no safetensors weights
  | 'http' // any other HTTP status
  | 'network' // the connection failed or dropped
  | 'incomplete' // the body ended short of (or past) the listed size
  | 'cache' // the cache could not store the file (disk full, quota)
  | 'aborted';

export class HubDownloadError extends Error {
  override readonly name = 'HubDownloadError';
  constructor(
    readonly repo: string,
    readonly file: string,
    readonly kind: HubFailure,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
  }
  readonly status: number | undefined;
}

export function notInRepo(hub: HubTarget, file: string): HubDownloadError {
  return new HubDownloadError(
    hub.repo,
    file,
    'not-found',
    `${hub.repo}@${hub.revision} has no ${file}, which Whetstone needs: the file does not exist in this repo. Check the repo id and revision.`,
    { status: 404 },
  );
}

/**
 * A repo without safetensors weights. PyTorch's pickle files (pytorch_model.bin) are not read, on
 * purpose: unpickling runs code. The message says how to get a model.safetensors from them.
 */
/** What to do with pickle-only weights: a one-line conversion in the model's folder. */
export const convertPickleHint = `Use a revision or copy of the model that has model.safetensors, or convert the weights in the model's folder with: python -c "import torch; from safetensors.torch import save_file; save_file({k: v.contiguous().clone() for k, v in torch.load('pytorch_model.bin', map_location='cpu').items()}, 'model.safetensors', metadata={'format': 'pt'})" and load that folder.`;

export function noSafetensors(hub: HubTarget, listing: ReadonlyMap<string, number>): HubDownloadError {
  const where = `${hub.repo}@${hub.revision}`;
  const pickled = ['pytorch_model.bin', 'pytorch_model.bin.index.json'].find((file) => listing.has(file));
  const message = pickled
    ? `${where} has its weights only as ${pickled} (PyTorch pickle); Whetstone reads safetensors weights only (model.safetensors). ${convertPickleHint}`
    : `${where} has neither model.safetensors nor model.safetensors.index.json. Whetstone reads safetensors weights only; pick a repo that has them.`;
  return new HubDownloadError(hub.repo, pickled ?? 'model.safetensors', 'unsupported', message);
}

/** Turns whatever the library, fetch or the cache threw into a HubDownloadError saying what to do. */
export function asHubError(
  hub: HubTarget,
  file: string,
  error: unknown,
  loaded?: number,
  total?: number,
): HubDownloadError {
  if (error instanceof HubDownloadError) return error;
  const { repo, revision } = hub;
  const where = file === listingFile ? `the file list of ${repo}@${revision}` : `${repo}@${revision}/${file}`;
  if (hub.signal?.aborted)
    return new HubDownloadError(
      repo,
      file,
      'aborted',
      `Download of ${where} was cancelled; nothing partial was kept.`,
      {
        cause: error,
      },
    );
  if (error instanceof HubApiError) {
    const status = error.statusCode;
    const hubSaid = (error.message.split('. URL: ')[0] ?? '').replace(/\.$/, ''); // drop the URL trailer
    const options = { cause: error, status };
    const modelPage = `${hub.hubUrl}/${repo}`;
    if (status === 401)
      return new HubDownloadError(
        repo,
        file,
        'unauthorized',
        hub.accessToken
          ? `The hub refused the access token for ${where} (HTTP 401: ${hubSaid}). Check that the token is valid and has read access.`
          : `${where} needs an access token (HTTP 401): the model is gated or private (or the repo does not exist). Accept its terms at ${modelPage} and pass an access token (hf_...) with read access.`,
        options,
      );
    if (status === 403)
      return new HubDownloadError(
        repo,
        file,
        'forbidden',
        `The access token has no access to ${where} (HTTP 403: ${hubSaid}). The model is gated: request access at ${modelPage}, wait for approval, then retry with a token of that account.`,
        options,
      );
    if (status === 404)
      return new HubDownloadError(
        repo,
        file,
        'not-found',
        file === listingFile
          ? `The repo ${repo} does not exist at revision "${revision}" (HTTP 404). Check the repo id (owner/name) and the revision.`
          : `${where} does not exist (HTTP 404). Check the repo id and the revision.`,
        options,
      );
    return new HubDownloadError(
      repo,
      file,
      'http',
      `The hub answered HTTP ${status} for ${where}: ${hubSaid}.`,
      options,
    );
  }
  const got = loaded === undefined ? '' : ` after ${loaded} of ${total} bytes`;
  return new HubDownloadError(
    repo,
    file,
    'network',
    `Lost the connection while downloading ${where}${got} (${errorText(error)}); nothing partial was kept. Check the network and run the download again: files already complete are not fetched twice.`,
    { cause: error },
  );
}

export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
