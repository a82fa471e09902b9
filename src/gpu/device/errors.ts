/**
 * Named GPU errors. Each message says what happened and what the person can do about it,
 * so the UI and the CLI can show it as-is.
 */

export class WebGpuUnavailableError extends Error {
  override readonly name = 'WebGpuUnavailableError';
}

export class GpuDeviceLostError extends Error {
  override readonly name = 'GpuDeviceLostError';
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(
      `The GPU device was lost (${reason}${detail ? `: ${detail}` : ''}). ` +
        'Work already saved is safe; reload the page or restart the command to get a new device.',
    );
  }
}

export class GpuValidationError extends Error {
  override readonly name = 'GpuValidationError';
  constructor(detail: string) {
    super(`WebGPU rejected a command: ${detail}. This is a bug in Whetstone; please report it.`);
  }
}

export class GpuOutOfMemoryError extends Error {
  override readonly name = 'GpuOutOfMemoryError';
  constructor(detail: string) {
    super(
      `The GPU ran out of memory: ${detail}. Try a smaller batch size, a shorter sequence length, ` +
        'or a parameter-efficient method such as LoRA.',
    );
  }
}

export type GpuError = GpuDeviceLostError | GpuValidationError | GpuOutOfMemoryError;

/** Maps a WebGPU uncaptured error onto our named errors. */
export function toGpuError(error: GPUError): GpuValidationError | GpuOutOfMemoryError {
  if (error.constructor.name === 'GPUOutOfMemoryError') return new GpuOutOfMemoryError(error.message);
  return new GpuValidationError(error.message);
}
