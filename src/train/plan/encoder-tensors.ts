/**
 * The buffers of an encoder classifier's run (BERT, DistilBERT, RoBERTa), as the code allocates them:
 * the training method's parameters and gradients (classify/encoder-methods.ts: full fine-tuning's
 * gradient per weight, or a PEFT method from src/train/peft with the head's modules_to_save gradients),
 * and one planned ClassifierStep (classify/classifier-step.ts with models/bert*.ts): its inputs and their
 * embedding indexes, the embeddings, every layer's kept tensors (an encoder has no gradient
 * checkpointing, so every layer keeps its own), the shared layer gradients, the head, the layer norms'
 * partial parameter-gradient sums (full fine-tuning only), and the method's per-step buffers.
 * ClassifierTrainer plans a training step and an evaluation step of [min(B, 8), T] (eval-batch.ts), so
 * both are listed.
 *
 * Dimension letters: B batch, T rows per sequence (prompt tuning's virtual tokens included), N = B·T,
 * S = prefix + T keys, C width, NH heads, D = C/NH, F feed-forward width, L layers, V vocabulary,
 * P positions, TV token types, K classes.
 */
import type { EncoderConfig } from '../models/bert-config';
import { encoderLayerNames, expectedEncoderWeights } from '../models/bert-weights';
import { matchesFeedforward, matchesTarget as matchesIa3Target } from '../peft/format/adapter-keys';
import type { Ledger } from './ledger';
import { type MethodSettings, PlanSettingsError, type TargetModulesSetting } from './method-settings';
import {
  matchLoraSites,
  type PeftModelShape,
  type PlannedSite,
  peftParameters,
  peftStepBuffers,
} from './method-tensors';
import { splitKWorkspaceBytes, splitKWorkspaceUsed } from './split-k-workspace';
import { normPartialRows, normsTrain, type StepShape } from './step-tensors';

/** The six linear layers of each encoder layer (bert-layer.ts, encoderLayerSites). */
export function encoderPlannedSites(c: EncoderConfig): PlannedSite[] {
  const site = (path: string, inFeatures: number, outFeatures: number): PlannedSite => ({
    path,
    module: path.split('.').at(-1) as string,
    inFeatures,
    outFeatures,
  });
  return Array.from({ length: c.L }, (_, i) => {
    const n = encoderLayerNames(c, i);
    return [
      site(n.query, c.C, c.C),
      site(n.key, c.C, c.C),
      site(n.value, c.C, c.C),
      site(n.attentionOut, c.C, c.C),
      site(n.intermediate, c.C, c.F),
      site(n.output, c.F, c.C),
    ];
  }).flat();
}

/** The encoder's widths and sites for the shared PEFT listings (method-tensors.ts). */
function encoderPeftShape(c: EncoderConfig): PeftModelShape {
  return {
    C: c.C,
    L: c.L,
    // Encoders have as many key/value heads as query heads: prefix tuning's token_dim is C.
    tokenDim: c.C,
    loraSites: (targets) => encoderLoraSites(c, targets),
    ia3Sites: (targets, feedforward) => encoderIa3Sites(c, targets, feedforward),
  };
}

/** encoder-lora.ts's defaults (PEFT's mapping): query and value; q_lin and v_lin for DistilBERT. */
function encoderLoraSites(c: EncoderConfig, targets: TargetModulesSetting | undefined): PlannedSite[] {
  return matchLoraSites(
    encoderPlannedSites(c),
    targets ?? (c.family === 'distilbert' ? ['q_lin', 'v_lin'] : ['query', 'value']),
  );
}

/** encoder-ia3-bottleneck.ts's defaults: key, value, output.dense (feed-forward output.dense). */
function encoderIa3Sites(
  c: EncoderConfig,
  targets: TargetModulesSetting | undefined,
  feedforwardModules: string[] | undefined,
): (PlannedSite & { feedforward: boolean })[] {
  const defaults =
    c.family === 'distilbert'
      ? { targets: ['k_lin', 'v_lin', 'lin2'], feedforward: ['lin2'] }
      : { targets: ['key', 'value', 'output.dense'], feedforward: ['output.dense'] };
  const chosen = targets ?? defaults.targets;
  const feedforward =
    feedforwardModules ??
    (chosen === 'all-linear' ? defaults.feedforward : defaults.feedforward.filter((f) => chosen.includes(f)));
  const sites = encoderPlannedSites(c)
    .filter((s) => matchesIa3Target(chosen, s.path))
    .map((s) => ({ ...s, feedforward: matchesFeedforward(feedforward, s.path) }));
  if (sites.length === 0)
    throw new PlanSettingsError(`No linear layer matches IA3 target modules ${JSON.stringify(chosen)}.`);
  return sites;
}

/**
 * The head parameters a PEFT method trains beside it (savedHeadParamNames): `classifier.*` (BERT and
 * DistilBERT's classifier, RoBERTa's dense and out_proj), and head layers the checkpoint lacked.
 */
export function trainedHeadNames(c: EncoderConfig, initialisedHead: readonly string[] = []): string[] {
  const { dense, out } = c.head;
  return [`${dense}.weight`, `${dense}.bias`, `${out}.weight`, `${out}.bias`].filter(
    (name) => name.startsWith('classifier.') || initialisedHead.includes(name),
  );
}

/** The method's parameters and their gradients, in the order the constructors allocate them. */
export function encoderMethodParameters(
  c: EncoderConfig,
  m: MethodSettings,
  ledger: Ledger,
  initialisedHead: readonly string[] = [],
): { trainable: number[][] } {
  const weights = expectedEncoderWeights(c);
  const trainable: number[][] = [];
  if (m.method === 'full') {
    for (const [name, shape] of weights) {
      ledger.tensor('gradients', `grad ${name}`, shape);
      trainable.push(shape);
    }
    return { trainable };
  }
  peftParameters(encoderPeftShape(c), m, ledger, trainable);
  // WithTrainedHead: the head's modules_to_save train in full, after the inner method's parameters.
  for (const name of trainedHeadNames(c, initialisedHead)) {
    const shape = weights.get(name) as number[];
    ledger.tensor('gradients', `grad ${name}`, shape);
    trainable.push(shape);
  }
  return { trainable };
}

/** Prompt tuning runs P virtual rows in front of each row; prefix tuning P keys before them. */
export function encoderStepShape(c: EncoderConfig, m: MethodSettings, B: number, seqLen: number): StepShape {
  if (m.method === 'prefix' && c.family === 'distilbert')
    throw new PlanSettingsError(
      'DistilBERT takes no past key/values, so prefix tuning cannot apply; use prompt tuning or LoRA.',
    );
  return {
    B,
    T: seqLen + (m.method === 'prompt' ? m.numVirtualTokens : 0),
    prefix: m.method === 'prefix' ? m.numVirtualTokens : 0,
  };
}

/**
 * One ClassifierStep's buffers. `backward`: a training step, whose dropout (when `dropout`) adds the
 * dropped copies and their gradients; an evaluation step has neither.
 */
export function encoderStepBuffers(
  c: EncoderConfig,
  m: MethodSettings,
  shape: StepShape,
  backward: boolean,
  dropout: boolean,
  ledger: Ledger,
): void {
  const { B, T } = shape;
  const N = B * T;
  const S = shape.prefix + T;
  const NC = [N, c.C];
  const w = (label: string, dims: number[], count = 1) => ledger.tensor('workspace', label, dims, count);
  const act = (label: string, dims: number[], count = 1) => ledger.tensor('activations', label, dims, count);
  const drops = backward && dropout;
  const hiddenDrop = drops && c.dropout.hidden > 0;
  const classifierDrop = drops && c.dropout.classifier > 0;
  const adapters = m.method === 'adapter';

  // The step's inputs, each id tensor with its CSR index [vocab + 1] and token order [N].
  const ids = (label: string, count: number, vocab: number) => {
    w(label, [count]);
    w(`${label} rowStart`, [vocab + 1]);
    w(`${label} tokens`, [count]);
  };
  ids('input ids', N, c.V);
  ids('position ids', N, c.P);
  if (c.TV > 0) ids('token type ids', N, c.TV);
  w('attention mask', [B, T]);
  ids('first tokens', B, N);
  if (shape.prefix > 0) w('prefix key mask', [B, S]);
  if (drops) ledger.bytes('workspace', 'encoder dropout rng', 16);

  // Embeddings: the sum, position and type rows (allocated for every family), the norm's statistics.
  act('embedding sum, position and token type rows, h0', NC, 4);
  act('embedding mean and rstd', [N], 2);
  if (hiddenDrop) act('embedding norm out (before dropout)', NC);

  if (backward) {
    // layerGradientBuffers: shared by every layer.
    w('d hidden, d attention block out', NC, 2);
    w('d activation out, d intermediate', [N, c.F], 2);
    w('d attention out, q, k, v, sublayer out, before dropout', NC, 6);
    w('attention row stats', [B, c.NH, T, 2]);
    if (shape.prefix > 0) w('d k, v with prefix', [B, S, c.NH, c.D], 2);
  }
  // Every layer keeps its own (no gradient checkpointing for encoders).
  const L = c.L;
  act('q, k, v, attention, projection, residual, block out, ffn out, ffn residual, h', NC, 10 * L);
  act('lse', [B, c.NH, T], L);
  act('mean and rstd 1 and 2', [N], 4 * L);
  act('intermediate, activation', [N, c.F], 2 * L);
  if (adapters) act('raw sublayer outputs before the adapters', NC, 2 * L);
  if (hiddenDrop) act('dense outputs before dropout', NC, (c.dropout.attentionOutput ? 2 : 1) * L);
  if (shape.prefix > 0) act('k, v with prefix', [B, S, c.NH, c.D], 2 * L);

  // The head on the first tokens: gather, dense, activation; logits and their gradient [B, K].
  act('first-token hidden, head dense, head activation', [B, c.C], 3);
  if (classifierDrop) act('head inputs after dropout', [B, c.C], c.family === 'roberta' ? 2 : 1);
  ledger.tensor('logits', 'classifier logits and their gradient', [B, c.K], 2);
  if (backward) {
    w('d head activation, dense, first-token hidden', [B, c.C], 3);
    if (classifierDrop) w('d head inputs after dropout', [B, c.C], c.family === 'roberta' ? 2 : 1);
    w('d embedding sum', NC);
    if (hiddenDrop) w('d embedding norm out', NC);
    // Each LayerNorm backward (2 per layer and the embeddings') keeps dγ and dβ partial sums when the
    // norms train; frozen ones (every method but full) keep none.
    if (normsTrain(m)) w('norm dgamma and dbeta partials', [normPartialRows(N, c.C), c.C], 2 * (2 * L + 1));
  }
  if (splitKWorkspaceUsed(m, N, backward)) w('split-K partials (shared)', [splitKWorkspaceBytes / 4]);
  ledger.tensor('logits', 'class labels and loss per row', [B], 2);
}

/** Dispatches of one planned step (each owns a small uniform), counted from bert*.ts and the step. */
export function encoderStepDispatches(c: EncoderConfig, m: MethodSettings, backward: boolean): number {
  const adapted = m.method === 'adapter' ? 8 : 0;
  const forward = c.L * (14 + adapted) + 14;
  if (!backward) return forward;
  // The counts include each LayerNorm's two sum-rows folds (2 norms a layer, 1 in the embeddings),
  // which frozen norms skip.
  const frozenFolds = normsTrain(m) ? 0 : 2;
  return forward + c.L * (26 - 2 * frozenFolds + 2 * adapted) + 14 - frozenFolds;
}

/** The method's per-step buffers, as for decoders (peftStepBuffers) on the encoder's sites. */
export function encoderMethodStepBuffers(
  c: EncoderConfig,
  m: MethodSettings,
  N: number,
  training: boolean,
  ledger: Ledger,
  ia3Scratch: Set<string>,
): void {
  peftStepBuffers(encoderPeftShape(c), m, N, training, ledger, ia3Scratch);
}
