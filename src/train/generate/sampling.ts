/**
 * Choosing the next token from a row of logits, as transformers' generate() does: temperature, then
 * top-k, then top-p (nucleus) filtering, then a seeded draw; temperature 0 is greedy (argmax, the
 * lowest id on ties). Runs on the CPU over one [V] row per step.
 */

export interface SamplingOptions {
  /** 0 = greedy. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
}

export const greedy: SamplingOptions = { temperature: 0, topK: 0, topP: 1 };

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  return best;
}

/** The filtered, renormalised distribution as (id, probability) pairs, most likely first. */
export function candidateDistribution(
  logits: ArrayLike<number>,
  o: SamplingOptions,
): { id: number; p: number }[] {
  const ids = Array.from({ length: logits.length }, (_, i) => i).sort(
    (a, b) => (logits[b] as number) - (logits[a] as number) || a - b,
  );
  const kept = o.topK > 0 ? ids.slice(0, o.topK) : ids;
  const top = logits[kept[0] as number] as number;
  const weights = kept.map((id) => Math.exp(((logits[id] as number) - top) / o.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  const out: { id: number; p: number }[] = [];
  let cumulative = 0;
  for (let i = 0; i < kept.length; i++) {
    const p = (weights[i] as number) / total;
    out.push({ id: kept[i] as number, p });
    cumulative += p;
    // Nucleus: keep the smallest prefix whose mass reaches top-p (always at least one token).
    if (cumulative >= o.topP) break;
  }
  const mass = out.reduce((a, c) => a + c.p, 0);
  return out.map((c) => ({ id: c.id, p: c.p / mass }));
}

export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, random: () => number): number {
  if (o.temperature <= 0) return argmax(logits);
  const candidates = candidateDistribution(logits, o);
  let u = random();
  for (const c of candidates) {
    u -= c.p;
    if (u < 0) return c.id;
  }
  return (candidates[candidates.length - 1] as { id: number }).id;
}
