import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { embeddingIndex } from './embedding';
import { embeddingBackwardRef, embeddingRef } from './embedding.ref';

describe('embedding reference backward against finite differences', () => {
  it('sums the rows of repeated ids and leaves unused rows zero', () => {
    const random = seededRandom(3);
    const shape = { vocab: 6, width: 4 };
    const ids = [2, 0, 2, 5, 2, 9]; // 9 is out of range: a zero row, no gradient
    const table = randomFloat64(random, 24);
    const dout = randomFloat64(random, ids.length * 4);
    const dtable = embeddingBackwardRef(dout, ids, shape);
    const numeric = numericGradient((t) => dot(dout, embeddingRef(t, ids, shape)), table);
    for (let i = 0; i < numeric.length; i++) expect(dtable[i]).toBeCloseTo(numeric[i] as number, 6);
    expect(Array.from(dtable.slice(4, 8))).toEqual([0, 0, 0, 0]);
  });
});

describe('the host-side CSR index the backward kernel reads', () => {
  it('groups token positions by id, in increasing order within an id', () => {
    const { rowStart, tokens } = embeddingIndex([3, 1, 3, 0, 3, 1], 5);
    expect(Array.from(rowStart)).toEqual([0, 1, 3, 3, 6, 6]);
    expect(Array.from(tokens)).toEqual([3, 1, 5, 0, 2, 4]);
  });

  it('rejects an id outside the vocabulary, naming the token', () => {
    expect(() => embeddingIndex([0, 1, 5], 5)).toThrow(/token 2 has id 5, outside the vocabulary \[0, 5\)/);
    expect(() => embeddingIndex([-1], 5)).toThrow(/token 0 has id -1/);
  });
});
