/**
 * An arena that remembers every buffer it ever made, so a finished case (a benchmark case, a measured
 * plan) can free them all at once instead of piling up on the device.
 */
import { BufferArena } from './arena';

export class CaseArena extends BufferArena {
  private readonly made = new Set<GPUBuffer>();

  override alloc(label: string, byteLength: number, usage?: number, pool?: string): GPUBuffer {
    const buffer = super.alloc(label, byteLength, usage, pool);
    this.made.add(buffer);
    return buffer;
  }

  destroyAll(): void {
    for (const buffer of this.made) buffer.destroy();
    this.made.clear();
  }
}
