import { describe, expect, it } from 'vitest';
import { createTensor, releaseTensor } from '../../tensor';
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

  // The chunked LM head: rows [start, start + count) of xf into a chunk, and the chunk's gradient back
  // into those rows of dxf, leaving the others as they were.
  it('copies a range of rows out of one matrix and into another', async () => {
    const [N, C, start, count] = [23, 11, 9, 7];
    const random = seededRandom(11);
    const before = randomArray(random, N * C);
    const whole = { width: C, srcStride: C, srcOffset: 0, dstStride: C, dstOffset: 0 };
    await checkKernel(await testRuntime(), {
      name: 'row ranges',
      inputs: { xf: { shape: [N, C], data: randomArray(random, N * C) } },
      outputs: {
        chunk: { shape: [count, C], tol: { atol: 0, rtol: 0 } },
        back: { shape: [N, C], tol: { atol: 0, rtol: 0 }, initial: before },
      },
      launch: async (rt, t) => [
        await columnCopy(rt, { src: t.xf!, dst: t.chunk!, ...whole, rows: { src: start, dst: 0, count } }),
        await columnCopy(rt, { src: t.chunk!, dst: t.back!, ...whole, rows: { src: 0, dst: start, count } }),
      ],
      reference: (x) => {
        const chunk = columnCopyRef(x.xf!, new Float64Array(count * C), {
          ...whole,
          rows: count,
          srcRow: start,
        });
        const back = columnCopyRef(chunk, Float64Array.from(before), {
          ...whole,
          rows: count,
          dstRow: start,
        });
        return { chunk, back };
      },
    });
  });

  it('refuses a block that does not fit, naming both', async () => {
    const runtime = await testRuntime();
    const src = createTensor(runtime.arena, 'xf', [10, 4]);
    const dst = createTensor(runtime.arena, 'chunk', [3, 4]);
    await expect(
      columnCopy(runtime, {
        src,
        dst,
        srcOffset: 0,
        dstOffset: 0,
        width: 4,
        rows: { src: 8, dst: 0, count: 3 },
      }),
    ).rejects.toThrow(/rows \[8, \+3\), columns \[0, \+4\) of xf\[10, 4\] do not fit rows \[0, \+3\)/);
    for (const t of [src, dst]) releaseTensor(runtime.arena, t);
  });
});
