/**
 * An encoder step's embeddings, as HF's BertEmbeddings (RobertaEmbeddings, DistilBERT's Embeddings):
 *   h0 = dropout(LayerNorm_e(word[ids] + position[pos] + token_type[types]))   (DistilBERT: no token types)
 * Prompt tuning writes the adaptation's prompt over each row's first P word-embedding rows before the
 * positions and types are added. The backward takes dh = ∂loss/∂h0 and ends with the gradients of the
 * tables that train (and the prompt's, and the prefix's finish, which must come last in the step).
 *
 * Dimension letters: N = B·T rows, C width.
 */
import { add } from '../../gpu/kernels/add/add';
import { type EmbeddingIds, embedding, embeddingBackward } from '../../gpu/kernels/embedding/embedding';
import { layerNormBackward, layerNormForward } from '../../gpu/kernels/layernorm/layernorm';
import type { Tensor } from '../../gpu/tensor';
import type { EncoderPlanKit, Work } from './bert-plan-kit';
import { embeddingNames } from './bert-weights';
import { requireTensor } from './params';

export interface EmbeddingsPlan {
  /** [N, C]: the first layer's input. */
  h0: Tensor;
  forward: Work[];
  /** The backward from dh = ∂loss/∂h0 [N, C] (dh is read, and may be overwritten). */
  backward(dh: Tensor): Work[];
}

export function planEmbeddings(kit: EncoderPlanKit): EmbeddingsPlan {
  const { runtime, config: c, inputs, N, t, prompt, prefix } = kit;
  const names = embeddingNames(c);
  const embeddingSum = t('embedding sum', [N, c.C]);
  const positionRows = t('position embedding', [N, c.C]);
  const typeRows = t('token type embedding', [N, c.C]);
  const embNorm = kit.norm(names.norm);
  const embMean = t('embedding mean', [N]);
  const embRstd = t('embedding rstd', [N]);
  const h0 = t('h0', [N, c.C]);
  const embDrop = kit.dropSite(c.dropout.hidden, 'embedding dropout');
  const embOut = embDrop ? t('embedding norm out', [N, c.C]) : h0;
  const forward: Work[] = [
    ...(prefix ? [prefix.prepare()] : []),
    embedding(runtime, {
      table: requireTensor(kit.params, names.word),
      ids: inputs.ids.ids,
      out: embeddingSum,
    }),
    ...(prompt ? [prompt.forward(embeddingSum)] : []),
    embedding(runtime, {
      table: requireTensor(kit.params, names.position),
      ids: inputs.positions.ids,
      out: positionRows,
    }),
    add(runtime, { b: positionRows, out: embeddingSum, accumulate: true }),
  ];
  if (names.tokenType) {
    if (!inputs.tokenTypes) throw new Error(`${c.architecture} needs token types in its step inputs.`);
    forward.push(
      embedding(runtime, {
        table: requireTensor(kit.params, names.tokenType),
        ids: inputs.tokenTypes.ids,
        out: typeRows,
      }),
      add(runtime, { b: typeRows, out: embeddingSum, accumulate: true }),
    );
  }
  forward.push(
    layerNormForward(runtime, {
      x: embeddingSum,
      gamma: embNorm.gamma,
      beta: embNorm.beta,
      y: embOut,
      mean: embMean,
      rstd: embRstd,
      eps: c.normEps,
    }),
    ...(embDrop ? [embDrop.forward(embOut, h0)] : []),
  );

  const backward = (dh: Tensor): Work[] => {
    const dEmbedding = t('d embedding sum', [N, c.C]);
    const dEmbOut = embDrop ? t('d embedding norm out', [N, c.C]) : dh;
    const work: Work[] = [
      ...(embDrop ? [embDrop.backward(dh, dEmbOut)] : []),
      layerNormBackward(runtime, {
        x: embeddingSum,
        gamma: embNorm.gamma,
        mean: embMean,
        rstd: embRstd,
        dy: dEmbOut,
        dx: dEmbedding,
        ...kit.normGrads(embNorm.name),
      }),
      ...(prompt ? [prompt.backward(dEmbedding)] : []),
      ...(prefix ? [prefix.finish()] : []),
    ];
    const tables: [string | undefined, EmbeddingIds | undefined][] = [
      [names.word, inputs.ids],
      [names.position, inputs.positions],
      [names.tokenType, inputs.tokenTypes],
    ];
    for (const [name, index] of tables) {
      const grad = name ? kit.adaptation.baseGrad(name) : undefined;
      if (grad && index) work.push(embeddingBackward(runtime, { dout: dEmbedding, dtable: grad, index }));
    }
    return work;
  };
  return { h0, forward, backward };
}
