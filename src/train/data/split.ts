/**
 * A seeded train/validation split, as HF datasets' train_test_split(test_size, seed) sizes it: the
 * validation part has ceil(fraction × n) examples, chosen by a seeded Fisher–Yates shuffle (mulberry32,
 * the same generator as the epoch order), and at least one example stays in training. Both parts keep
 * the file's order; the trainer shuffles each epoch itself. Split before packing, so no packed row
 * holds examples from both sides.
 */
import { seededRandom } from '../seeded-random';

export interface SplitOptions {
  /** In [0, 1): the share of examples held out for validation. */
  validationFraction: number;
  seed: number;
}

export function splitTrainValidation<T>(
  items: readonly T[],
  options: SplitOptions,
): { train: T[]; validation: T[] } {
  const { validationFraction: fraction, seed } = options;
  if (!(fraction >= 0 && fraction < 1))
    throw new RangeError(`validationFraction must be in [0, 1), not ${fraction}`);
  const n = items.length;
  const count = Math.min(Math.ceil(fraction * n), Math.max(0, n - 1));
  const order = Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed >>> 0);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const held = new Set(order.slice(0, count));
  const train: T[] = [];
  const validation: T[] = [];
  items.forEach((item, i) => {
    (held.has(i) ? validation : train).push(item);
  });
  return { train, validation };
}
