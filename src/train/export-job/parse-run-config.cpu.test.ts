// Run configs: defaults filled from the engine's own, and every mistake a RunConfigError that names
// the field.
import { describe, expect, it } from 'vitest';
import { defaultTrainConfig } from '../train-config';
import { RunConfigError } from './errors';
import { parseRunConfig, parseRunConfigJson } from './parse-run-config';
import { runConfigJson } from './run-config';

const minimal = { model: { id: 'gpt2' }, method: { method: 'lora' }, data: { file: 'd.jsonl' } };

const errorOf = (raw: unknown): RunConfigError => {
  try {
    parseRunConfig(raw);
  } catch (error) {
    if (error instanceof RunConfigError) return error;
    throw error;
  }
  throw new Error('parsed without an error');
};

describe('parseRunConfig', () => {
  it('fills defaults from TrainConfig, the CLI methods and the data loader', () => {
    const run = parseRunConfig(minimal);
    expect(run.training).toEqual(defaultTrainConfig);
    expect(run.method).toEqual({
      method: 'lora',
      r: 8,
      alpha: 8,
      dropout: 0,
      useRslora: false,
      useDora: false,
    });
    expect(run.data).toEqual({
      file: 'd.jsonl',
      skipBadRows: false,
      maskPrompt: true,
      packing: false,
      validationFraction: 0,
    });
    expect(run.model).toEqual({ id: 'gpt2', revision: null });
  });

  it('reads every method, "dora" as LoRA with DoRA', () => {
    const method = (m: Record<string, unknown>) => parseRunConfig({ ...minimal, method: m }).method;
    expect(method({ method: 'dora', r: 4, alpha: 8, targetModules: 'all-linear' })).toEqual({
      method: 'lora',
      r: 4,
      alpha: 8,
      dropout: 0,
      targetModules: 'all-linear',
      useRslora: false,
      useDora: true,
    });
    expect(method({ method: 'ia3', feedforwardModules: ['down_proj'] })).toEqual({
      method: 'ia3',
      feedforwardModules: ['down_proj'],
    });
    expect(method({ method: 'prompt' })).toEqual({ method: 'prompt', numVirtualTokens: 20 });
    expect(method({ method: 'prefix', prefixProjection: true, encoderHiddenSize: 64 })).toEqual({
      method: 'prefix',
      numVirtualTokens: 20,
      prefixProjection: true,
      encoderHiddenSize: 64,
    });
    expect(method({ method: 'adapter' })).toEqual({ method: 'adapter', reductionFactor: 16 });
    expect(method({ method: 'full' })).toEqual({ method: 'full' });
  });

  it('names the field of each mistake', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...minimal, training: { lr: -1 } }, 'training.lr', /positive/],
      [{ ...minimal, training: { learningRate: 1e-3 } }, 'training.learningRate', /not a field/],
      [{ ...minimal, training: { steps: 10, epochs: 2 } }, 'training.steps', /not both/],
      [{ ...minimal, training: { batchSize: 2.5 } }, 'training.batchSize', /whole number/],
      [{ ...minimal, training: { betas: [0.9] } }, 'training.betas', /two numbers/],
      [{ ...minimal, training: { schedule: 'step' } }, 'training.schedule', /constant, linear, cosine/],
      [
        { ...minimal, training: { loraPlusLrRatio: 0 } },
        'training.loraPlusLrRatio',
        /positive number, got 0/,
      ],
      [{ ...minimal, training: { loraPlusLrRatio: -4 } }, 'training.loraPlusLrRatio', /positive/],
      [
        { ...minimal, training: { loraPlusLrRatio: Number.POSITIVE_INFINITY } },
        'training.loraPlusLrRatio',
        /positive/,
      ],
      [{ ...minimal, training: { loraPlusLrRatio: '16' } }, 'training.loraPlusLrRatio', /positive.*"16"/],
      [
        { ...minimal, method: { method: 'ia3' }, training: { loraPlusLrRatio: 16 } },
        'training.loraPlusLrRatio',
        /LoRA\+ sets the learning rate of LoRA's B matrices.*ia3/,
      ],
      [
        { ...minimal, training: { evalEvery: 5, earlyStoppingPatience: 0 } },
        'training.earlyStoppingPatience',
        /whole number of at least 1, got 0/,
      ],
      [
        { ...minimal, training: { evalEvery: 5, earlyStoppingPatience: 1.5 } },
        'training.earlyStoppingPatience',
        /whole number/,
      ],
      [
        { ...minimal, training: { earlyStoppingPatience: 3 } },
        'training.earlyStoppingPatience',
        /compares evaluations during the run: set how often to evaluate \(training\.evalEvery/,
      ],
      [
        { ...minimal, training: { evalEvery: 5, earlyStoppingPatience: 3 } },
        'training.earlyStoppingPatience',
        /no validation set: hold examples out \(data\.validationFraction\) or give a data\.validationFile/,
      ],
      [{ ...minimal, method: { method: 'lora', r: 0 } }, 'method.r', /at least 1/],
      [{ ...minimal, method: { method: 'lora', dropout: 1 } }, 'method.dropout', /\[0, 1\)/],
      [{ ...minimal, method: { method: 'dora', useDora: false } }, 'method.useDora', /dora/],
      [
        { ...minimal, method: { method: 'prefix', encoderHiddenSize: 8 } },
        'method.encoderHiddenSize',
        /prefixProjection/,
      ],
      [{ ...minimal, method: { method: 'bitfit' } }, 'method.method', /one of/],
      [{ ...minimal, method: { method: 'ia3', targetModules: [] } }, 'method.targetModules', /non-empty/],
      [{ ...minimal, data: {} }, 'data.file', /required/],
      [{ ...minimal, data: { file: 'd', validationFraction: 1 } }, 'data.validationFraction', /\[0, 1\)/],
      [
        { ...minimal, data: { file: 'd', validationFraction: 0.1, validationFile: 'v' } },
        'data.validationFraction',
        /not both/,
      ],
      [
        { ...minimal, data: { file: 'd', schema: { kind: 'chat', columns: { text: 'x' } } } },
        'data.schema.columns.text',
        /no such field/,
      ],
      [{ ...minimal, model: {} }, 'model.id', /required/],
      [{ ...minimal, model: { id: 'gpt2', quantization: 'int4' } }, 'model.quantization', /"nf4".*"int4"/],
      [{ ...minimal, model: { id: 'gpt2', quantization: true } }, 'model.quantization', /"nf4"/],
      [
        { ...minimal, model: { id: 'gpt2', quantization: 'nf4' }, method: { method: 'full' } },
        'model.quantization',
        /full fine-tuning trains every weight.*PEFT method/,
      ],
      [{ ...minimal, extra: 1 }, 'extra', /not a field/],
    ];
    for (const [raw, field, message] of cases) {
      const error = errorOf(raw);
      expect(error.field, JSON.stringify(raw)).toBe(field);
      expect(error.message).toMatch(message);
      expect(error.message).toContain(`"${field}"`);
    }
  });

  it('reads a QLoRA base: "nf4" for any PEFT method; absent or null, none', () => {
    const model = (m: Record<string, unknown>, method = { method: 'lora' }) =>
      parseRunConfig({ ...minimal, model: m, method }).model;
    expect(model({ id: 'gpt2', quantization: 'nf4' })).toEqual({
      id: 'gpt2',
      revision: null,
      quantization: 'nf4',
    });
    for (const method of ['dora', 'ia3', 'prompt', 'prefix', 'adapter'])
      expect(model({ id: 'gpt2', quantization: 'nf4' }, { method }).quantization).toBe('nf4');
    expect(model({ id: 'gpt2', quantization: null })).toEqual({ id: 'gpt2', revision: null });
    expect(model({ id: 'gpt2' })).not.toHaveProperty('quantization');
    const qlora = parseRunConfig({ ...minimal, model: { id: 'gpt2', quantization: 'nf4' } });
    expect(parseRunConfigJson(runConfigJson(qlora))).toEqual(qlora);
  });

  it('reads a LoRA+ ratio for LoRA and DoRA, and refuses it for every other method', () => {
    for (const method of ['lora', 'dora']) {
      const run = parseRunConfig({ ...minimal, method: { method }, training: { loraPlusLrRatio: 16 } });
      expect(run.training).toEqual({ ...defaultTrainConfig, loraPlusLrRatio: 16 });
      expect(parseRunConfigJson(runConfigJson(run))).toEqual(run);
    }
    expect(parseRunConfig(minimal).training).not.toHaveProperty('loraPlusLrRatio');
    for (const method of ['full', 'ia3', 'prompt', 'prefix', 'adapter']) {
      const error = errorOf({ ...minimal, method: { method }, training: { loraPlusLrRatio: 2 } });
      expect(error.field).toBe('training.loraPlusLrRatio');
      expect(error.message).toMatch(
        new RegExp(`LoRA's B matrices; this run trains ${method}, which has none`),
      );
    }
  });

  it('reads an early-stopping patience with evaluations and a validation split or file', () => {
    const training = { evalEvery: 5, earlyStoppingPatience: 3 };
    for (const data of [
      { file: 'd.jsonl', validationFraction: 0.1 },
      { file: 'd.jsonl', validationFile: 'v.jsonl' },
    ]) {
      const run = parseRunConfig({ ...minimal, training, data });
      expect(run.training).toEqual({ ...defaultTrainConfig, ...training });
      expect(parseRunConfigJson(runConfigJson(run))).toEqual(run);
    }
    expect(parseRunConfig(minimal).training).not.toHaveProperty('earlyStoppingPatience');
  });

  it("reads DPO's setting, β defaulting to TRL's 0.1, and names every mistake in it", () => {
    const dpo = (preference: unknown, data: Record<string, unknown> = {}) =>
      parseRunConfig({ ...minimal, training: { preference }, data: { file: 'd.jsonl', ...data } });
    const run = dpo({ beta: 0.25 });
    expect(run.training).toEqual({ ...defaultTrainConfig, preference: { beta: 0.25 } });
    expect(parseRunConfigJson(runConfigJson(run))).toEqual(run);
    expect(dpo({}).training.preference).toEqual({ beta: 0.1 });
    expect(dpo({ lossType: 'ipo' }).training.preference).toEqual({ beta: 0.1, lossType: 'ipo' });
    expect(dpo({ lossType: 'sigmoid' }).training.preference).toEqual({ beta: 0.1 });
    expect(parseRunConfig(minimal).training).not.toHaveProperty('preference');
    const mistakes: [unknown, string, RegExp][] = [
      [{ beta: 0 }, 'training.preference.beta', /must be a number above 0 \(DPO's β/],
      [{ beta: -1 }, 'training.preference.beta', /above 0/],
      [{ beta: '0.1' }, 'training.preference.beta', /got "0\.1"/],
      [{ beta: 0.1, lossType: 'kto' }, 'training.preference.lossType', /must be one of sigmoid, hinge, ipo/],
      [{ beta: 0.1, loss: 'ipo' }, 'training.preference.loss', /the fields are beta, lossType/],
      [null, 'training.preference', /must be an object, got null/],
      [0.1, 'training.preference', /must be an object, got 0\.1/],
    ];
    for (const [preference, field, message] of mistakes) {
      const error = errorOf({ ...minimal, training: { preference } });
      expect(error.field, JSON.stringify(preference)).toBe(field);
      expect(error.message).toMatch(message);
    }
  });

  it('refuses packing and unmasked prompts in a DPO run, by field, and keeps them for SFT', () => {
    const packed = errorOf({
      ...minimal,
      training: { preference: {} },
      data: { file: 'd.jsonl', packing: true },
    });
    expect(packed.field).toBe('data.packing');
    expect(packed.message).toMatch(/DPO scores each response whole against its prompt/);
    const unmasked = { file: 'd.jsonl', maskPrompt: false };
    const error = errorOf({ ...minimal, training: { preference: { beta: 0.2 } }, data: unmasked });
    expect(error.field).toBe('data.maskPrompt');
    expect(error.message).toMatch(/never the prompt's/);
    const sft = parseRunConfig({ ...minimal, data: { ...unmasked, packing: true } });
    expect(sft.data).toMatchObject({ maskPrompt: false, packing: true });
  });

  it('reads JSON text, and names a syntax error', () => {
    expect(parseRunConfigJson(JSON.stringify(minimal)).model.id).toBe('gpt2');
    expect(() => parseRunConfigJson('{"model":', 'run.json')).toThrow(/run\.json is not valid JSON/);
  });

  it('writes a config that reads back the same, steps and epochs alike', () => {
    for (const training of [{ steps: 40 }, { epochs: 3 }]) {
      const run = parseRunConfig({ ...minimal, training });
      expect(parseRunConfigJson(runConfigJson(run))).toEqual(run);
    }
  });
});
