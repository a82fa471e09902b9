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
