/**
 * The order examples are visited in: a seeded shuffle per epoch (Fisher–Yates over mulberry32), or the
 * file's order when shuffle is off. Batches are consecutive slices of that order; the last one may be short.
 */
import { seededRandom } from '../seeded-random';

export function epochOrder(
  count: number,
  epoch: number,
  options: { shuffle: boolean; seed: number },
): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  if (!options.shuffle) return order;
  const random = seededRandom((options.seed * 1_000_003 + epoch) >>> 0);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

/** Micro-batches of example indices for one epoch. */
export function epochBatches(
  count: number,
  batchSize: number,
  epoch: number,
  options: { shuffle: boolean; seed: number },
): number[][] {
  const order = epochOrder(count, epoch, options);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}
