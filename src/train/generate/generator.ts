/**
 * Text generation with a KV cache, streaming token ids as they come.
 * The prompt runs once as a prefill step that fills every layer's key/value cache; then each new token
 * is one recorded decode step (T = 1) attending over the cache. Stops at maxNewTokens, at an EOS id,
 * or when the decoded text reaches a stop string (transformers' `stop_strings`).
 * With prompt tuning the prefill runs the virtual tokens before the prompt (DecoderStep adds them), so
 * the cache holds them too and every later position is shifted by their number, as in PEFT's generate.
 * With prefix tuning the cache starts with the P learned keys and values of every layer (the prefill
 * writes them) and the prompt takes positions P.., as PEFT's generate places them.
 */
import type { Runtime } from '../../gpu/runtime';
import { createTensor } from '../../gpu/tensor';
import { type DecoderModel, DecoderStep, type KvCache } from '../models/decoder-step';
import { rowTokenLimit, rowTooLong } from '../models/row-limit';
import type { Adaptation } from '../peft/adaptation';
import { seededRandom } from '../seeded-random';
import { greedy, type SamplingOptions, sampleToken } from './sampling';

export interface GenerateOptions {
  maxNewTokens: number;
  sampling?: SamplingOptions;
  seed?: number;
  stopTokenIds?: number[];
  stopStrings?: string[];
  /** Decodes generated ids to text, for stop strings. */
  decode?: (ids: number[]) => string;
}

export class Generator {
  private decodeStep?: DecoderStep;
  private cache?: Omit<KvCache, 'attend'>;
  /** Prompt tuning's virtual tokens or prefix tuning's prefix, ahead of the prompt in the cache. */
  private readonly leadingSlots: number;

  constructor(
    private readonly runtime: Runtime,
    private readonly model: DecoderModel,
    /** Prompt plus new tokens may not pass this many; it sizes the cache. */
    readonly maxLength: number,
    /** A trained or loaded adapter to generate with. */
    private readonly adaptation?: Adaptation,
  ) {
    this.leadingSlots = (adaptation?.virtualTokens ?? 0) + (adaptation?.prefixTokens ?? 0);
    const slots = maxLength + this.leadingSlots;
    const limit = rowTokenLimit(model.config);
    if (limit && slots > limit.tokens) throw rowTooLong(limit, slots, 'a generation would hold');
  }

  private cacheTensors() {
    if (!this.cache) {
      const c = this.model.config;
      const S = this.maxLength + this.leadingSlots;
      const a = this.runtime.arena;
      this.cache = {
        k: Array.from({ length: c.L }, (_, i) => createTensor(a, `kv cache k${i}`, [1, S, c.KV, c.D])),
        v: Array.from({ length: c.L }, (_, i) => createTensor(a, `kv cache v${i}`, [1, S, c.KV, c.D])),
        mask: createTensor(a, 'kv cache mask', [1, S], 'u32'),
        ...(c.slidingWindow === undefined
          ? {}
          : {
              window: {
                tokens: c.slidingWindow,
                mask: createTensor(a, 'kv cache window mask', [1, S], 'u32'),
              },
            }),
      };
    }
    return this.cache;
  }

  private lastRow(logits: Float32Array): Float32Array {
    const V = this.model.config.V;
    return logits.subarray(logits.length - V);
  }

  async *stream(prompt: number[], options: GenerateOptions): AsyncGenerator<number> {
    if (prompt.length === 0) throw new Error('The prompt is empty: give at least one token.');
    const total = prompt.length + options.maxNewTokens;
    if (total > this.maxLength) {
      throw new Error(
        `Prompt (${prompt.length}) plus ${options.maxNewTokens} new tokens passes the ${this.maxLength}-token limit.`,
      );
    }
    const sampling = options.sampling ?? greedy;
    const random = seededRandom(options.seed ?? 0);
    const cache = this.cacheTensors();
    const prefill = await DecoderStep.plan(
      this.runtime,
      this.model,
      { B: 1, T: prompt.length },
      {
        // The prefill's next token reads only the prompt's last row.
        keepLogits: 'last',
        cache: { ...cache, attend: false },
        ...(this.adaptation ? { adaptation: this.adaptation } : {}),
      },
    );
    prefill.run({ ids: [prompt], attentionMask: [prompt.map(() => 1)], labels: [prompt.map(() => -100)] });
    let logits = this.lastRow(await prefill.readLogits());
    this.decodeStep ??= await DecoderStep.plan(
      this.runtime,
      this.model,
      { B: 1, T: 1 },
      {
        keepLogits: true,
        cache: { ...cache, attend: true },
        ...(this.adaptation ? { adaptation: this.adaptation } : {}),
      },
    );
    const generated: number[] = [];
    for (let position = prompt.length; generated.length < options.maxNewTokens; position++) {
      const token = sampleToken(logits, sampling, random);
      generated.push(token);
      yield token;
      if (options.stopTokenIds?.includes(token)) return;
      if (options.stopStrings?.length && options.decode) {
        const text = options.decode(generated);
        if (options.stopStrings.some((stop) => text.includes(stop))) return;
      }
      if (generated.length === options.maxNewTokens) return;
      this.decodeStep.decode(token, this.leadingSlots + position);
      logits = this.lastRow(await this.decodeStep.readLogits());
    }
  }

  async generate(prompt: number[], options: GenerateOptions): Promise<number[]> {
    const out: number[] = [];
    for await (const token of this.stream(prompt, options)) out.push(token);
    return out;
  }
}
