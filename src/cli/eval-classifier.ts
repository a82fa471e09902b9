/**
 * `whetstone eval --task classification --model DIR [--adapter DIR] --data FILE [--seq-len N]
 * [--batch-size N] [--json]`: a fine-tuned encoder classifier (a folder `train --task classification
 * --method full` wrote, or a base model with the adapter folder a PEFT method wrote: LoRA, DoRA, IA3,
 * prompt or prefix tuning in PEFT's SEQ_CLS layout, or Whetstone's bottleneck folder) on a
 * classification or sentence-pair file; prints {"loss", "accuracy", "f1", ...} with the confusion matrix.
 * Labels map to class ids through the model's id2label when the data's labels are all in it (a folder
 * Whetstone wrote), otherwise through the data's sorted label set, as training assigned them.
 */
import { classificationLabelSet, encodeClassificationData } from '../train/classify/classification-data';
import { ClassifierEvaluator } from '../train/classify/classifier-trainer';
import { encoderAdaptationFromFolder } from '../train/classify/encoder-adapter-folder';
import { maxEncoderTokens } from '../train/models/bert';
import { frozen } from '../train/peft/adaptation';
import { readDatasetsFromFlags } from './dataset-flags';
import { numberFlag, readAdapterFolder } from './load-model';
import { loadClassifierForCli, metricsReport } from './train-classifier';
import { CliUsageError } from './usage-error';

export async function runEvalClassifier(flags: Partial<Record<string, string | boolean>>): Promise<number> {
  const read = await readDatasetsFromFlags(flags, false);
  const dataLabels = classificationLabelSet(read.dataset);
  const { runtime, model, encoder, checkpoint } = await loadClassifierForCli(flags.model);
  const modelLabels = checkpoint.config.labels;
  const named = dataLabels.every((label) => modelLabels.includes(String(label)));
  const labelSet = named ? modelLabels : dataLabels;
  if (labelSet.length !== model.config.K)
    throw new CliUsageError(
      `The data has ${labelSet.length} labels but the model's head has ${model.config.K} classes; evaluate a model trained on this label set.`,
    );
  const int = (name: string, fallback: number, min = 1) =>
    numberFlag(flags[name], name, fallback, (n) => Number.isInteger(n) && n >= min);
  const seqLen = int('seq-len', Math.min(128, maxEncoderTokens(model.config)), 4);
  const adaptation =
    typeof flags.adapter === 'string'
      ? encoderAdaptationFromFolder(runtime, model, await readAdapterFolder(flags.adapter))
      : frozen;
  const data = encodeClassificationData(read.dataset, encoder, {
    maxLength: seqLen,
    labelSet,
    skipBadRows: flags['skip-bad-rows'] === true,
  });
  const T = Math.max(...data.examples.map((e) => e.ids.length));
  const evaluator = await ClassifierEvaluator.create(runtime, model, adaptation, {
    B: int('batch-size', 32),
    T,
    padId: encoder.padId,
  });
  const result = await evaluator.evaluate(data.examples);
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ ...metricsReport(result), labels: labelSet, truncated: data.truncated })}\n`,
    );
  else
    process.stdout.write(
      `loss ${result.loss.toFixed(4)}  accuracy ${result.accuracy.toFixed(4)}  f1 ${result.f1.toFixed(4)} (${result.f1Kind}) over ${result.count} rows\n`,
    );
  return 0;
}
