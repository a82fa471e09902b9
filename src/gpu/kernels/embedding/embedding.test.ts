import { describe, expect, it } from 'vitest';
import { releaseDispatches, submitDispatches } from '../../dispatch';
import { downloadTensor, releaseTensor, uploadTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import {
  type EmbeddingIds,
  embedding,
  embeddingBackward,
  releaseEmbeddingIds,
  uploadEmbeddingIds,
} from './embedding';
import { embeddingBackwardRef, embeddingRef } from './embedding.ref';

interface Case {
  N: number;
  V: number;
  C: number;
  accumulate?: boolean;
  /** Gemma's embed_scale, √C. */
  scale?: number;
}

// The lookup copies values: exact.
const exact = { atol: 0, rtol: 0 };
// dtable sums each id's rows of dout in f32 (a handful of O(1) terms here).
const reducedTol = { atol: 1e-5, rtol: 1e-5 };

/** Ids in [0, V) with every fourth token reusing id 1, so some rows collect many tokens. */
function idsFor(random: () => number, { N, V }: Case): Uint32Array {
  return Uint32Array.from({ length: N }, (_, n) =>
    n % 4 === 0 ? Math.min(1, V - 1) : Math.floor(random() * V),
  );
}

async function checkEmbedding(c: Case) {
  const random = seededRandom(c.N * 131 + c.V * 7 + c.C);
  const ids = idsFor(random, c);
  const initial = c.accumulate ? randomArray(random, c.V * c.C) : undefined;
  const runtime = await testRuntime();
  let uploaded: EmbeddingIds | undefined;
  try {
    await checkKernel(runtime, {
      name: `embedding ${JSON.stringify(c)}`,
      inputs: {
        table: { shape: [c.V, c.C], data: randomArray(random, c.V * c.C) },
        dout: { shape: [c.N, c.C], data: randomArray(random, c.N * c.C) },
      },
      outputs: {
        // One f32 product per element with a scale.
        out: { shape: [c.N, c.C], tol: c.scale ? { atol: 0, rtol: 1e-7 } : exact },
        dtable: { shape: [c.V, c.C], tol: reducedTol, ...(initial ? { initial } : {}) },
      },
      launch: async (rt, t) => {
        uploaded = uploadEmbeddingIds(rt, 'ids', [c.N], ids, c.V);
        return [
          await embedding(rt, { table: t.table!, ids: uploaded.ids, out: t.out!, scale: c.scale }),
          await embeddingBackward(rt, {
            dout: t.dout!,
            dtable: t.dtable!,
            index: uploaded,
            accumulate: c.accumulate,
            scale: c.scale,
          }),
        ];
      },
      reference: (x) => {
        const shape = { vocab: c.V, width: c.C, scale: c.scale };
        return {
          out: embeddingRef(x.table!, ids, shape),
          dtable: embeddingBackwardRef(x.dout!, ids, shape, initial && Float64Array.from(initial)),
        };
      },
    });
  } finally {
    if (uploaded) releaseEmbeddingIds(runtime, uploaded);
  }
}

describe('embedding', () => {
  it.each<Case>([
    { N: 60, V: 37, C: 45 }, // repeated ids, odd widths
    { N: 1, V: 1, C: 1 },
    { N: 40, V: 5, C: 300 }, // two column blocks in the backward, a ragged one
    { N: 33, V: 50, C: 64 }, // most rows unused: written as zero
    { N: 60, V: 37, C: 45, accumulate: true },
    { N: 60, V: 37, C: 45, scale: Math.fround(Math.sqrt(45)), accumulate: true }, // Gemma's √C
  ])('lookup and scatter-add backward at %j', async (c) => {
    await checkEmbedding(c);
  });

  it('reads an id outside the vocabulary as a zero row, without reading past the table', async () => {
    const runtime = await testRuntime();
    const [V, C] = [3, 5];
    const random = seededRandom(9);
    const ids = Uint32Array.from([2, 3, 0, 0xffffffff]);
    const idTensor = uploadTensor(runtime.arena, 'ids', [ids.length], ids);
    await checkKernel(runtime, {
      name: 'embedding out of range',
      inputs: { table: { shape: [V, C], data: randomArray(random, V * C) } },
      outputs: { out: { shape: [ids.length, C], tol: exact } },
      launch: (rt, t) => embedding(rt, { table: t.table!, ids: idTensor, out: t.out! }),
      reference: (x) => ({ out: embeddingRef(x.table!, [2, -1, 0, -1], { vocab: V, width: C }) }),
    });
    releaseTensor(runtime.arena, idTensor);
  });

  it.each([
    { N: 60, V: 37, C: 45 }, // odd width: rows start mid-word and mid-group
    { N: 7, V: 3, C: 1 },
    { N: 33, V: 50, C: 64 },
  ])('looks rows up in a table kept in half precision, exactly as stored, at %j', async (c) => {
    const runtime = await testRuntime();
    const random = seededRandom(c.N * 17 + c.C);
    const ids = idsFor(random, c);
    const idTensor = uploadTensor(runtime.arena, 'ids', [ids.length], ids);
    await checkKernel(runtime, {
      name: `embedding half table ${JSON.stringify(c)}`,
      inputs: { table: { shape: [c.V, c.C], data: randomArray(random, c.V * c.C), half: true } },
      outputs: { out: { shape: [c.N, c.C], tol: exact } },
      launch: (rt, t) => embedding(rt, { table: t.table!, ids: idTensor, out: t.out! }),
      reference: (x) => ({ out: embeddingRef(x.table!, ids, { vocab: c.V, width: c.C }) }),
    });
    releaseTensor(runtime.arena, idTensor);
  });

  it('gives a bit-identical gradient on every run', async () => {
    const runtime = await testRuntime();
    const c = { N: 96, V: 7, C: 45 };
    const random = seededRandom(21);
    const ids = idsFor(random, c);
    const uploaded = uploadEmbeddingIds(runtime, 'ids', [c.N], ids, c.V);
    const dout = uploadTensor(runtime.arena, 'dout', [c.N, c.C], randomArray(random, c.N * c.C, 1e3));
    const runs: Uint32Array[] = [];
    for (let run = 0; run < 3; run++) {
      const dtable = uploadTensor(runtime.arena, 'dtable', [c.V, c.C], new Float32Array(c.V * c.C));
      const dispatch = await embeddingBackward(runtime, { dout, dtable, index: uploaded });
      submitDispatches(runtime, [dispatch]);
      runs.push(new Uint32Array((await downloadTensor(runtime.arena, dtable)).buffer));
      releaseDispatches(runtime, [dispatch]);
      releaseTensor(runtime.arena, dtable);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    releaseTensor(runtime.arena, dout);
    releaseEmbeddingIds(runtime, uploaded);
  });

  it('rejects ids of the wrong type and mismatched shapes, naming the tensors', async () => {
    const runtime = await testRuntime();
    const table = uploadTensor(runtime.arena, 'wte', [4, 3], new Float32Array(12));
    const ids = uploadTensor(runtime.arena, 'ids', [2], new Float32Array(2));
    const out = uploadTensor(runtime.arena, 'x', [2, 4], new Float32Array(8));
    await expect(embedding(runtime, { table, ids, out })).rejects.toThrow(/ids ids\[2\] must be u32/);
    const goodIds = uploadEmbeddingIds(runtime, 'tok', [2], Uint32Array.from([0, 3]), 4);
    await expect(embedding(runtime, { table, ids: goodIds.ids, out })).rejects.toThrow(
      /x\[2, 4\] must be \[2, 3\]/,
    );
    expect(() => uploadEmbeddingIds(runtime, 'tok', [1], Uint32Array.from([4]), 4)).toThrow(/id 4, outside/);
    for (const t of [table, ids, out]) releaseTensor(runtime.arena, t);
    releaseEmbeddingIds(runtime, goodIds);
  });
});
