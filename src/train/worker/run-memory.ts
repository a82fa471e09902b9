/**
 * The GPU memory one run holds, so it can be given back when the run is no longer needed. A run gets a
 * runtime whose arena is the worker's shared arena seen through a tracker: every buffer the run's model,
 * adaptation, optimizer, recorded steps and generator allocate is noted, and forgotten again when the run
 * itself releases it. `release` destroys what is left (the GPU frees it at once) and reports the bytes,
 * measured from the buffers' real sizes, the same figures the arena's own accounting uses. Pipelines and
 * the runtime's placeholders are shared by every run and stay.
 */
import type { BufferArena } from '../../gpu/arena';
import type { Runtime } from '../../gpu/runtime';

export interface RunMemory {
  /** The runtime to open the run with. */
  runtime: Runtime;
  /** Bytes the run holds in live buffers now. */
  liveBytes(): number;
  /** Destroys every buffer the run still holds; returns the bytes freed (0 the second time). */
  release(): number;
}

export function runMemory(shared: Runtime): RunMemory {
  const arena = shared.arena;
  const owned = new Map<GPUBuffer, number>();
  const tracked: BufferArena = new Proxy(arena, {
    get(target, property) {
      if (property === 'alloc')
        return (label: string, byteLength: number, usage?: number, pool?: string) => {
          const buffer = target.alloc(label, byteLength, usage, pool);
          owned.set(buffer, buffer.size);
          return buffer;
        };
      if (property === 'release' || property === 'destroy')
        return (buffer: GPUBuffer) => {
          owned.delete(buffer);
          target[property](buffer);
        };
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    runtime: { ...shared, arena: tracked },
    liveBytes: () => {
      let bytes = 0;
      for (const size of owned.values()) bytes += size;
      return bytes;
    },
    release() {
      let freed = 0;
      for (const [buffer, size] of owned) {
        // A buffer handed back through another arena view is no longer this run's to free.
        if (!arena.owns(buffer)) continue;
        arena.destroy(buffer);
        freed += size;
      }
      owned.clear();
      return freed;
    },
  };
}
