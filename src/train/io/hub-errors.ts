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

/** A repo with neither safetensors nor PyTorch weights (e.g. TensorFlow or Flax only). */
export function noWeights(hub: HubTarget): HubDownloadError {
  return new HubDownloadError(
    hub.repo,
    'model.safetensors',
    'unsupported',
    `${hub.repo}@${hub.revision} has no PyTorch weights: neither model.safetensors nor pytorch_model.bin (nor their .index.json). Whetstone reads those two formats; pick a repo or revision that has one.`,
  );
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
