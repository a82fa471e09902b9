/**
 * Float64 CPU reference for rope.wgsl, forward and backward, written the way HF Llama writes it:
 *   out = x·cos + rotate_half(x)·sin,   rotate_half([x1, x2]) = [−x2, x1]
 * with cos, sin of pos·inv_freq[d mod D/2] (the angles repeated over both halves of the head).
 * x and out are [B, T, NH, D]; pos = t + offsets[b].
 * Backward is the transpose: dx = dy·cos + rotate_halfᵀ(dy·sin), rotate_halfᵀ([g1, g2]) = [g2, −g1],
 * which is the rotation by −angle.
 */

export interface RopeRefSpec {
  B: number;
  T: number;
  NH: number;
  D: number;
  /** [D/2], float64 (ropeInvFreq). */
  invFreq: Float64Array;
  /** [B] position of each sequence's first token; 0 when absent. */
  offsets?: readonly number[];
}

function rotate(x: Float64Array, spec: RopeRefSpec, transpose: boolean): Float64Array {
  const { B, T, NH, D, invFreq } = spec;
  const half = D / 2;
  const out = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const pos = t + (spec.offsets?.[b] ?? 0);
      for (let h = 0; h < NH; h++) {
        const base = ((b * T + t) * NH + h) * D;
        for (let d = 0; d < D; d++) {
          const angle = pos * (invFreq[d % half] as number);
          const first = d < half;
          const partner = x[base + (first ? d + half : d - half)] as number;
          // rotate_half(x)[d], or rotate_halfᵀ(x)[d] for the backward pass.
          const rotated = first !== transpose ? -partner : partner;
          out[base + d] = (x[base + d] as number) * Math.cos(angle) + rotated * Math.sin(angle);
        }
      }
    }
  }
  return out;
}

export function ropeRef(x: Float64Array, spec: RopeRefSpec): Float64Array {
  return rotate(x, spec, false);
}

export function ropeBackwardRef(dy: Float64Array, spec: RopeRefSpec): Float64Array {
  return rotate(dy, spec, true);
}
