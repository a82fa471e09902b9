/**
 * The RoPE frequency table inv_freq [D/2], computed once on the host in float64 and read by rope.wgsl.
 * All position-scaling logic lives here, so the kernel only ever sees a table.
 *
 *   default (Su et al. 2021, "RoFormer"; HF `_compute_default_rope_parameters`):
 *     inv_freq[i] = 1 / theta^(2i/D),  i < D/2
 *   Llama 3 (HF `_compute_llama3_parameters`), with wavelen = 2π / inv_freq[i]:
 *     wavelen < original / high_freq_factor  → unchanged (high frequencies)
 *     wavelen > original / low_freq_factor   → inv_freq / factor (low frequencies)
 *     otherwise, with s = (original / wavelen − low) / (high − low):  (1 − s)·inv_freq/factor + s·inv_freq
 * Llama 3's attention factor is 1, so the table is the whole of the scaling.
 */

/** Field names match `Llama3RopeScaling` in the model config, so a parsed config passes straight in. */
export interface RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

export interface RopeConfig {
  /** D, the width of one head; must be even. */
  headDim: number;
  theta: number;
  scaling?: RopeScaling;
}

export function checkHeadDim(D: number, where: string): void {
  if (!Number.isInteger(D) || D < 2 || D % 2 !== 0) {
    throw new Error(`${where}: RoPE needs an even head dimension D ≥ 2, got D = ${D}.`);
  }
}

function checkScaling(s: RopeScaling): void {
  const positive = (name: keyof RopeScaling) => {
    if (!(s[name] > 0 && Number.isFinite(s[name]))) {
      throw new Error(`RoPE llama3 scaling: ${name} must be a positive number, got ${s[name]}.`);
    }
  };
  positive('factor');
  positive('lowFreqFactor');
  positive('highFreqFactor');
  positive('originalMaxPositions');
  if (!(s.highFreqFactor > s.lowFreqFactor)) {
    throw new Error(
      `RoPE llama3 scaling: highFreqFactor (${s.highFreqFactor}) must exceed lowFreqFactor ` +
        `(${s.lowFreqFactor}), or the smoothing between them divides by zero.`,
    );
  }
}

/** inv_freq [D/2] in float64. */
export function ropeInvFreq(config: RopeConfig): Float64Array {
  const D = config.headDim;
  checkHeadDim(D, 'ropeInvFreq');
  if (!(config.theta > 0 && Number.isFinite(config.theta))) {
    throw new Error(`ropeInvFreq: theta must be a positive number, got ${config.theta}.`);
  }
  const table = new Float64Array(D / 2);
  for (let i = 0; i < D / 2; i++) table[i] = 1 / config.theta ** ((2 * i) / D);
  const s = config.scaling;
  if (!s) return table;
  checkScaling(s);
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  for (let i = 0; i < D / 2; i++) {
    const f = table[i] as number;
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) continue;
    if (wavelen > lowFreqWavelen) {
      table[i] = f / s.factor;
    } else {
      const smooth =
        (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      table[i] = ((1 - smooth) * f) / s.factor + smooth * f;
    }
  }
  return table;
}
