/**
 * One training run from a RunSpec: opens the model from its files, builds the method, trains, and
 * exports the result (a PEFT adapter folder for LoRA, a Hugging Face model folder for full fine-tuning).
 * The same engine serves the worker and in-thread use; it never touches the DOM.
 */
import type { Runtime } from '../../gpu/runtime';
import { tokenizeText } from '../data/text-batches';
import { hfFolderFiles, modelTensors } from '../export/hf-folder';
import { loraAdapterFiles } from '../export/lora-adapter';
import { openModelBundle } from '../io/model-bundle';
import { filesFromMemory } from '../io/model-files';
import { createDecoderModel } from '../models/create-model';
import { FullFineTuning } from '../peft/full';
import { LoraAdaptation } from '../peft/lora';
import { type TrainEvent, Trainer } from '../trainer';
import type { RunSpec } from './run-spec';

export interface OpenedRun {
  trainer: Trainer;
  events: AsyncGenerator<TrainEvent>;
  /** The trained result as files; call after the events end. */
  export(): Promise<Record<string, Uint8Array>>;
}

export async function openRun(runtime: Runtime, spec: RunSpec, signal: AbortSignal): Promise<OpenedRun> {
  const source = filesFromMemory(spec.modelFiles, spec.modelName);
  const bundle = await openModelBundle(source);
  const model = await createDecoderModel(runtime, bundle.checkpoint);
  const eos = bundle.generation.eosTokenIds[0];
  const examples = (texts: string[]) =>
    texts.map((text) => ({
      ids: tokenizeText((t) => bundle.tokenizer.encode(t), text, eos, spec.train.seqLen).ids,
    }));
  const m = spec.method;
  const adaptation =
    m.method === 'full'
      ? new FullFineTuning(runtime, model)
      : new LoraAdaptation(runtime, model, {
          r: m.r,
          alpha: m.alpha,
          dropout: m.dropout,
          ...(m.targetModules ? { targetModules: m.targetModules } : {}),
          useRslora: m.useRslora ?? false,
          seed: spec.train.seed,
        });
  const trainer = new Trainer(
    runtime,
    model,
    adaptation,
    spec.train,
    examples(spec.trainTexts),
    examples(spec.validationTexts),
  );
  return {
    trainer,
    events: trainer.run(signal),
    async export() {
      if (adaptation instanceof LoraAdaptation) {
        const written = await loraAdapterFiles(runtime, model, adaptation, spec.modelName);
        return Object.fromEntries(
          Object.entries(written).map(([name, content]) => [
            name,
            typeof content === 'string' ? new TextEncoder().encode(content) : content,
          ]),
        );
      }
      return hfFolderFiles(source, await modelTensors(runtime, model.params));
    },
  };
}
