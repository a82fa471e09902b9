/**
 * Browser storage limits: check that a write fits before making it, and turn the browser's own
 * QuotaExceededError into a `StorageFullError` that says how much space was needed and how much is left
 * (from navigator.storage.estimate()). Both functions are injected, so the logic is tested in Node.
 */

export interface StorageEstimateLike {
  usage?: number;
  quota?: number;
}

export interface StorageAccess {
  /** navigator.storage.estimate; absent where the browser has no StorageManager. */
  estimate?: () => Promise<StorageEstimateLike>;
  /** navigator.storage.persist; absent where the browser has no StorageManager. */
  persist?: () => Promise<boolean>;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unknown';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The browser's storage for this site is full: nothing was written, and nothing saved before was lost. */
export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';
  constructor(
    readonly what: string,
    /** Bytes the write needed. */
    readonly needed: number,
    /** Bytes left, as the browser estimates them; NaN when it cannot say. */
    readonly available: number,
  ) {
    super(
      `Not enough browser storage to save ${what}: it needs ${formatBytes(needed)}, and ` +
        `${Number.isNaN(available) ? 'the browser did not say how much is' : `${formatBytes(available)} is`} left. ` +
        'Delete datasets or adapters you no longer need, or free space in the browser, and try again.',
    );
  }
}

/** Space left, from the estimate; NaN when the browser gives none. */
export async function spaceLeft(access: StorageAccess): Promise<number> {
  if (!access.estimate) return Number.NaN;
  const { usage, quota } = await access.estimate();
  if (quota === undefined) return Number.NaN;
  return Math.max(0, quota - (usage ?? 0));
}

/** Throws a StorageFullError when the estimate says `needed` bytes do not fit. */
export async function ensureSpace(access: StorageAccess, what: string, needed: number): Promise<void> {
  const left = await spaceLeft(access);
  if (!Number.isNaN(left) && needed > left) throw new StorageFullError(what, needed, left);
}

/** The DOMException browsers throw when a write passes the quota (Chromium, Firefox and Safari alike). */
export function isQuotaExceeded(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    (error.name === 'QuotaExceededError' || error.name === 'NS_ERROR_DOM_QUOTA_REACHED')
  );
}

/** Asks for persistent storage at most once per `access`; the answer is remembered. */
export function persistOnce(access: StorageAccess): () => Promise<boolean> {
  let asked: Promise<boolean> | undefined;
  return () => {
    asked ??= access.persist ? access.persist().catch(() => false) : Promise.resolve(false);
    return asked;
  };
}

/** The page's real StorageManager, where there is one. */
export function browserStorageAccess(): StorageAccess {
  const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
  return {
    estimate: storage?.estimate ? () => storage.estimate() : undefined,
    persist: storage?.persist ? () => storage.persist() : undefined,
  };
}
