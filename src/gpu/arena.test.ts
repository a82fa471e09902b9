import { describe, expect, it } from 'vitest';
import { BufferArena } from './arena';
import { testRuntime } from './testing/test-runtime';

describe('buffer arena byte accounting', () => {
  it('counts live, pooled, reserved and peak bytes exactly, per label', async () => {
    const { device } = await testRuntime();
    const arena = new BufferArena(device);
    const a = arena.alloc('weights', 1000); // rounded up to 1008
    const b = arena.alloc('activations', 4096);
    expect(a.size).toBe(1008);
    expect(arena.stats()).toMatchObject({
      liveBytes: 5104,
      pooledBytes: 0,
      reservedBytes: 5104,
      liveBuffers: 2,
    });
    expect(arena.stats().byLabel).toEqual({ weights: 1008, activations: 4096 });

    arena.release(b);
    expect(arena.stats()).toMatchObject({
      liveBytes: 1008,
      pooledBytes: 4096,
      reservedBytes: 5104,
      peakLiveBytes: 5104,
    });
    expect(arena.stats().byLabel).toEqual({ weights: 1008 });

    const reused = arena.alloc('gradients', 4090); // same 4096-byte size class: reused, not created
    expect(reused).toBe(b);
    expect(reused.label).toBe('gradients');
    expect(arena.stats()).toMatchObject({ liveBytes: 5104, pooledBytes: 0, peakReservedBytes: 5104 });

    arena.destroy(a);
    arena.release(reused);
    arena.trim();
    expect(arena.stats()).toMatchObject({
      liveBytes: 0,
      pooledBytes: 0,
      reservedBytes: 0,
      peakLiveBytes: 5104,
    });
    arena.resetPeaks();
    expect(arena.stats().peakLiveBytes).toBe(0);
  });

  it('refuses to release a buffer twice', async () => {
    const arena = new BufferArena((await testRuntime()).device);
    const a = arena.alloc('x', 16);
    arena.release(a);
    expect(() => arena.release(a)).toThrow(/not live in this arena/);
  });
});
