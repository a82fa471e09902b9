import { describe, expect, it } from 'vitest';
import { epochBatches, epochOrder } from './order';

describe('example order', () => {
  it('keeps the file order without shuffle', () => {
    expect(epochBatches(7, 3, 0, { shuffle: false, seed: 1 })).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('shuffles each epoch differently, reproducibly for a seed, as a permutation', () => {
    const a = epochOrder(50, 0, { shuffle: true, seed: 7 });
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).toEqual(epochOrder(50, 0, { shuffle: true, seed: 7 }));
    expect(a).not.toEqual(epochOrder(50, 1, { shuffle: true, seed: 7 }));
    expect(a).not.toEqual(epochOrder(50, 0, { shuffle: true, seed: 8 }));
  });
});
