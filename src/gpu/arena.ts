/**
 * The buffer arena: every GPU buffer Whetstone makes comes from here, so its byte counts are exact.
 *
 * - `live`: bytes in buffers handed out and not yet released.
 * - `pooled`: bytes in released buffers kept for reuse (still held on the GPU).
 * - `reserved = live + pooled`: what the GPU actually holds for us.
 * Peaks are kept for both. Per-label figures count live bytes. Sizes are the real `GPUBuffer.size`,
 * which we round up to 16 bytes so every buffer binds as `array<vec4<f32>>`.
 */

export interface ArenaStats {
  liveBytes: number;
  pooledBytes: number;
  reservedBytes: number;
  peakLiveBytes: number;
  peakReservedBytes: number;
  liveBuffers: number;
  byLabel: Record<string, number>;
}

export const defaultStorageUsage = () =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export const bufferAlignment = 16;

export function alignedByteSize(byteLength: number): number {
  return Math.max(bufferAlignment, Math.ceil(byteLength / bufferAlignment) * bufferAlignment);
}

interface LiveEntry {
  label: string;
  size: number;
  usage: number;
  pool: string;
}

export class BufferArena {
  private readonly live = new Map<GPUBuffer, LiveEntry>();
  private readonly pool = new Map<string, GPUBuffer[]>();
  private liveBytes = 0;
  private pooledBytes = 0;
  private peakLiveBytes = 0;
  private peakReservedBytes = 0;
  private readonly labelBytes = new Map<string, number>();

  constructor(readonly device: GPUDevice) {}

  /**
   * A buffer of at least `byteLength` bytes; reuses a released one of the same size, usage and pool.
   * A named pool keeps buffers apart whose contents kernels must not mistake for another kind (the
   * 'f16' tensors' packed halves, src/gpu/tensor.ts).
   */
  alloc(label: string, byteLength: number, usage: number = defaultStorageUsage(), pool = ''): GPUBuffer {
    const size = alignedByteSize(byteLength);
    const key = `${size}:${usage}:${pool}`;
    let buffer = this.pool.get(key)?.pop();
    if (buffer) {
      this.pooledBytes -= size;
      buffer.label = label;
    } else {
      buffer = this.device.createBuffer({ label, size, usage });
    }
    this.live.set(buffer, { label, size, usage, pool });
    this.liveBytes += size;
    this.labelBytes.set(label, (this.labelBytes.get(label) ?? 0) + size);
    this.notePeaks();
    return buffer;
  }

  /** Returns a buffer to the pool for reuse. Its contents are not cleared. */
  release(buffer: GPUBuffer): void {
    const entry = this.forget(buffer);
    const key = `${entry.size}:${entry.usage}:${entry.pool}`;
    const list = this.pool.get(key) ?? [];
    list.push(buffer);
    this.pool.set(key, list);
    this.pooledBytes += entry.size;
  }

  /** Frees a buffer on the GPU at once. */
  destroy(buffer: GPUBuffer): void {
    this.forget(buffer);
    buffer.destroy();
  }

  /** Frees every pooled buffer on the GPU. */
  trim(): void {
    for (const list of this.pool.values()) for (const buffer of list) buffer.destroy();
    this.pool.clear();
    this.pooledBytes = 0;
  }

  resetPeaks(): void {
    this.peakLiveBytes = this.liveBytes;
    this.peakReservedBytes = this.liveBytes + this.pooledBytes;
  }

  owns(buffer: GPUBuffer): boolean {
    return this.live.has(buffer);
  }

  stats(): ArenaStats {
    return {
      liveBytes: this.liveBytes,
      pooledBytes: this.pooledBytes,
      reservedBytes: this.liveBytes + this.pooledBytes,
      peakLiveBytes: this.peakLiveBytes,
      peakReservedBytes: this.peakReservedBytes,
      liveBuffers: this.live.size,
      byLabel: Object.fromEntries([...this.labelBytes].filter(([, bytes]) => bytes > 0)),
    };
  }

  private forget(buffer: GPUBuffer): LiveEntry {
    const entry = this.live.get(buffer);
    if (!entry) throw new Error(`Buffer "${buffer.label}" is not live in this arena (released twice?).`);
    this.live.delete(buffer);
    this.liveBytes -= entry.size;
    this.labelBytes.set(entry.label, (this.labelBytes.get(entry.label) ?? 0) - entry.size);
    return entry;
  }

  private notePeaks(): void {
    this.peakLiveBytes = Math.max(this.peakLiveBytes, this.liveBytes);
    this.peakReservedBytes = Math.max(this.peakReservedBytes, this.liveBytes + this.pooledBytes);
  }
}
