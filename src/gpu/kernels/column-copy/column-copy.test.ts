import { describe, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { columnCopy } from './column-copy';
import { columnCopyRef } from './column-copy.ref';

describe('column copy', () => {
  it('splits a fused q|k|v into three and joins them back, adding', async () => {
    const [rows, C] = [13, 9];
    const random = seededRandom(7);
    const start = randomArray(random, rows * 3 * C);
    await checkKernel(await testRuntime(), {
      name: 'split and join q|k|v',
      inputs: { qkv: { shape: [rows, 3 * C], data: randomArray(random, rows * 3 * C) } },
      outputs: {
        q: { shape: [rows, C], tol: { atol: 0, rtol: 0 } },
        k: { shape: [rows, C], tol: { atol: 0, rtol: 0 } },
        v: { shape: [rows, C], tol: { atol: 0, rtol: 0 } },
        joined: { shape: [rows, 3 * C], tol: { atol: 1e-7, rtol: 1e-7 }, initial: start },
      },
      launch: async (rt, t) => {
        const parts = [t.q!, t.k!, t.v!];
        const split = await Promise.all(
          parts.map((dst, p) =>
            columnCopy(rt, { src: t.qkv!, srcOffset: p * C, dst, dstOffset: 0, width: C }),
          ),
        );
        const join = await Promise.all(
          parts.map((src, p) =>
            columnCopy(rt, {
              src,
              srcOffset: 0,
              dst: t.joined!,
              dstOffset: p * C,
              width: C,
              accumulate: true,
            }),
          ),
        );
        return [...split, ...join];
      },
      reference: (x) => {
        const block = (p: number, toParts: boolean) =>
          toParts
            ? { rows, width: C, srcStride: 3 * C, srcOffset: p * C, dstStride: C, dstOffset: 0 }
            : { rows, width: C, srcStride: C, srcOffset: 0, dstStride: 3 * C, dstOffset: p * C };
        const parts = [0, 1, 2].map((p) => columnCopyRef(x.qkv!, new Float64Array(rows * C), block(p, true)));
        let joined: Float64Array = Float64Array.from(start);
        parts.forEach((part, p) => {
          joined = columnCopyRef(part, joined, block(p, false), true);
        });
        return { q: parts[0]!, k: parts[1]!, v: parts[2]!, joined };
      },
    });
  });
});
