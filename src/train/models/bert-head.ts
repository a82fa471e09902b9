/**
 * An encoder step's classification head on the first token of every row:
 *   logits = out(dropout(act_h(dense(dropout_RoBERTa(h[:, 0])))))
 * BERT: dense = bert.pooler.dense, tanh, out = classifier; DistilBERT: pre_classifier, relu, classifier;
 * RoBERTa: classifier.dense, tanh, classifier.out_proj, and a dropout before classifier.dense too. The
 * head always trains (full gradients when the adaptation has them). The first tokens are gathered from
 * the last hidden state by the embedding lookup (the [N, C] state is the table), whose backward scatters
 * the gradient back into dh (zero elsewhere).
 *
 * Dimension letters: B batch, N = B·T rows, C width, K classes.
 */
import { activation, activationBackward } from '../../gpu/kernels/activation/activation';
import { embedding, embeddingBackward } from '../../gpu/kernels/embedding/embedding';
import type { Tensor } from '../../gpu/tensor';
import { baseLinearOp } from '../peft/adaptation';
import { type EncoderPlanKit, encoderLinear, type Work } from './bert-plan-kit';

export interface HeadPlan {
  /** [B, K]. */
  logits: Tensor;
  /** [B, K]: the loss gradient, written before the backward runs. */
  dlogits: Tensor;
  forward: Work[];
  /** Backward into dh [N, C] = ∂loss/∂hLast (overwritten: zero but at the first tokens). */
  backward(dh: Tensor): Work[];
}

/** The head's parameter names: dense and out, weight and bias. */
export function headParamNames(kit: Pick<EncoderPlanKit, 'config'>): string[] {
  const { dense, out } = kit.config.head;
  return [`${dense}.weight`, `${dense}.bias`, `${out}.weight`, `${out}.bias`];
}

export function planHead(kit: EncoderPlanKit, hLast: Tensor): HeadPlan {
  const { runtime, config: c, inputs, B, t, adaptation } = kit;
  const first = t('first-token hidden', [B, c.C]);
  const pre = t('head dense', [B, c.C]);
  const pooled = t('head activation', [B, c.C]);
  const logits = t('classifier logits', [B, c.K]);
  const dlogits = t('d classifier logits', [B, c.K]);
  const headOp = (name: string) => {
    const weight = adaptation.baseGrad(`${name}.weight`);
    const bias = adaptation.baseGrad(`${name}.bias`);
    return baseLinearOp(runtime, encoderLinear(kit.params, name), {
      ...(weight ? { weight } : {}),
      ...(bias ? { bias } : {}),
    });
  };
  const dense = headOp(c.head.dense);
  const out = headOp(c.head.out);
  // Classifier dropout: before the classifier (all three), and RoBERTa's before classifier.dense too.
  const inDrop =
    c.family === 'roberta' ? kit.dropSite(c.dropout.classifier, 'head input dropout') : undefined;
  const outDrop = kit.dropSite(c.dropout.classifier, 'classifier dropout');
  const denseIn = inDrop ? t('head input after dropout', [B, c.C]) : first;
  const outIn = outDrop ? t('classifier input after dropout', [B, c.C]) : pooled;
  const forward: Work[] = [
    embedding(runtime, { table: hLast, ids: inputs.firstTokens.ids, out: first }),
    ...(inDrop ? [inDrop.forward(first, denseIn)] : []),
    dense.forward(denseIn, pre),
    activation(runtime, { kind: c.head.activation, x: pre, out: pooled }),
    ...(outDrop ? [outDrop.forward(pooled, outIn)] : []),
    out.forward(outIn, logits),
  ];

  const backward = (dh: Tensor): Work[] => {
    const dPooled = t('d head activation', [B, c.C]);
    const dPre = t('d head dense', [B, c.C]);
    const dFirst = t('d first-token hidden', [B, c.C]);
    const dOutIn = outDrop ? t('d classifier input after dropout', [B, c.C]) : dPooled;
    const dDenseIn = inDrop ? t('d head input after dropout', [B, c.C]) : dFirst;
    return [
      out.backward({ x: outIn, dy: dlogits, dx: dOutIn }),
      ...(outDrop ? [outDrop.backward(dOutIn, dPooled)] : []),
      activationBackward(runtime, { kind: c.head.activation, x: pre, dy: dPooled, dx: dPre }),
      dense.backward({ x: denseIn, dy: dPre, dx: dDenseIn }),
      ...(inDrop ? [inDrop.backward(dDenseIn, dFirst)] : []),
      embeddingBackward(runtime, { dout: dFirst, dtable: dh, index: inputs.firstTokens }),
    ];
  };
  return { logits, dlogits, forward, backward };
}
