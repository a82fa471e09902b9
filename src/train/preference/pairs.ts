/**
 * A preference pair as the DPO trainer consumes it: the same prompt followed by the chosen and by the
 * rejected response, each a token example whose labels are -100 over the prompt (and padding), so each
 * side's log-probability sums over its response tokens only, as TRL's DPOTrainer scores them.
 */
import type { TokenExample } from '../batches';

export interface PreferencePair {
  chosen: TokenExample;
  rejected: TokenExample;
}

/** Both sides of every pair, chosen then rejected: the rows a step may hold (row length, memory plan). */
export function pairSides(pairs: readonly PreferencePair[]): TokenExample[] {
  return pairs.flatMap((p) => [p.chosen, p.rejected]);
}
