import { describe, expect, it } from 'vitest';
import { chunkExample, packExamples } from './packing';
import { splitTrainValidation } from './split';

const EOS = 0;

describe('packing', () => {
  it('joins examples with EOS (unless already there) into full rows, labels travelling with their tokens', () => {
    const rows = packExamples(
      [
        { ids: [5, 6], labels: [-100, 6] }, // prompt masked, answer trained: the added EOS is trained
        { ids: [7, EOS] }, // ends with EOS already; no labels means all trained
        { ids: [8, 9, 10], labels: [8, 9, -100] }, // last token untrained: so is the added EOS
      ],
      4,
      EOS,
    );
    expect(rows).toEqual([
      { ids: [5, 6, EOS, 7], labels: [-100, 6, EOS, 7] },
      { ids: [EOS, 8, 9, 10], labels: [EOS, 8, 9, -100] },
      { ids: [EOS], labels: [-100] },
    ]);
  });

  it('cuts one long example into rows of the sequence length, the last shorter', () => {
    expect(chunkExample({ ids: [1, 2, 3, 4, 5] }, 2)).toEqual([
      { ids: [1, 2], labels: [1, 2] },
      { ids: [3, 4], labels: [3, 4] },
      { ids: [5], labels: [5] },
    ]);
    expect(() => chunkExample({ ids: [1] }, 0)).toThrow(RangeError);
  });

  it('handles an example longer than the argument limit of push(...)', () => {
    const long = Array.from({ length: 300_000 }, (_, i) => i + 1);
    const rows = packExamples([{ ids: long }], 100_000, EOS);
    expect(rows.map((r) => r.ids.length)).toEqual([100_000, 100_000, 100_000, 1]);
  });
});

describe('seeded train/validation split', () => {
  const items = Array.from({ length: 10 }, (_, i) => i);

  it('holds out ceil(fraction × n), the same ones for the same seed, both sides in file order', () => {
    const a = splitTrainValidation(items, { validationFraction: 0.25, seed: 42 });
    expect(a.validation).toHaveLength(3);
    expect(a.train).toHaveLength(7);
    expect([...a.train, ...a.validation].sort((x, y) => x - y)).toEqual(items);
    expect(a.train).toEqual([...a.train].sort((x, y) => x - y));
    expect(splitTrainValidation(items, { validationFraction: 0.25, seed: 42 })).toEqual(a);
    expect(splitTrainValidation(items, { validationFraction: 0.25, seed: 7 }).validation).not.toEqual(
      a.validation,
    );
  });

  it('keeps at least one training example, holds none out at 0, and refuses fractions outside [0, 1)', () => {
    expect(splitTrainValidation([1, 2], { validationFraction: 0.9, seed: 0 }).train).toHaveLength(1);
    expect(splitTrainValidation([1], { validationFraction: 0.5, seed: 0 })).toEqual({
      train: [1],
      validation: [],
    });
    expect(splitTrainValidation(items, { validationFraction: 0, seed: 0 }).validation).toEqual([]);
    expect(() => splitTrainValidation(items, { validationFraction: 1, seed: 0 })).toThrow(RangeError);
  });
});
